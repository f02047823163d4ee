import DocFlowCrypto
import DocFlowS3
import Foundation
import Testing

/// AWS's SigV4 test suite (`Tests/Fixtures/sigv4`, from awslabs/aws-c-auth): every request signed
/// in the header form and the query form; the canonical request, the string to sign and the
/// signature each compared with the suite's.
@Suite struct SigV4SuiteTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sigv4")
    static let cases = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).sorted()

    struct Case {
        let request: SigV4.Request
        let signer: SigV4
        let date: Date
        let expires: Int
        let normalize: Bool
        let signBody: Bool
        let omitToken: Bool
        let dir: URL

        func file(_ name: String) throws -> String { try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8) }
    }

    static func percentDecoded(_ s: Substring) -> String { String(s).removingPercentEncoding ?? String(s) }

    /// Reads `request.txt` (an HTTP/1.1 request; folded header lines continue the one before) and
    /// `context.json`.
    static func load(_ name: String) throws -> Case {
        let dir = root.appendingPathComponent(name)
        let raw = try String(contentsOf: dir.appendingPathComponent("request.txt"), encoding: .utf8)
        let (head, body): (Substring, Substring)
        if let r = raw.range(of: "\n\n") { (head, body) = (raw[..<r.lowerBound], raw[r.upperBound...]) } else { (head, body) = (raw[...], "") }
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false)
        let requestLine = lines.removeFirst()
        let method = requestLine.prefix { $0 != " " }
        let target = requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count)
        let (pathPart, queryPart) = target.firstIndex(of: "?").map { (target[..<$0], target[target.index(after: $0)...]) } ?? (target, "")
        let query = queryPart.split(separator: "&").map { item -> (name: String, value: String) in
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (percentDecoded(kv[0]), kv.count > 1 ? percentDecoded(kv[1]) : "")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines where !line.isEmpty {
            if line.first == " " || line.first == "\t" {
                headers[headers.count - 1].value += "\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        let context = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("context.json"))) as! [String: Any]
        let creds = context["credentials"] as! [String: String]
        let formatter = ISO8601DateFormatter()
        let payload = Digest.hex(Digest.sha256(Array(body.utf8)))
        return Case(request: SigV4.Request(method: String(method), path: percentDecoded(pathPart), query: query, headers: headers, payloadHash: payload),
                    signer: SigV4(credentials: AWSCredentials(accessKeyID: creds["access_key_id"]!, secretAccessKey: creds["secret_access_key"]!,
                                                              sessionToken: creds["token"]),
                                  region: context["region"] as! String, service: context["service"] as! String),
                    date: formatter.date(from: context["timestamp"] as! String)!, expires: context["expiration_in_seconds"] as! Int,
                    normalize: context["normalize"] as! Bool, signBody: context["sign_body"] as! Bool,
                    omitToken: context["omit_session_token"] as? Bool ?? false, dir: dir)
    }

    @Test func theSuiteIsThere() { #expect(Self.cases.count == 38) }

    @Test(arguments: cases)
    func headerForm(_ name: String) throws {
        let c = try Self.load(name)
        let s = c.signer.signHeaders(c.request, date: c.date, normalizePath: c.normalize, signBody: c.signBody, signToken: !c.omitToken)
        #expect(s.canonicalRequest == (try c.file("header-canonical-request.txt")))
        #expect(s.stringToSign == (try c.file("header-string-to-sign.txt")))
        #expect(s.signature == (try c.file("header-signature.txt")).trimmingCharacters(in: .whitespacesAndNewlines))
        let expected = try c.file("header-signed-request.txt").split(separator: "\n").first { $0.hasPrefix("Authorization:") }
        #expect(s.items.last.map { "\($0.name):\($0.value)" } == expected.map(String.init))
    }

    @Test(arguments: cases)
    func queryForm(_ name: String) throws {
        let c = try Self.load(name)
        let s = c.signer.presign(c.request, date: c.date, expires: c.expires, normalizePath: c.normalize, signToken: !c.omitToken)
        #expect(s.canonicalRequest == (try c.file("query-canonical-request.txt")))
        #expect(s.stringToSign == (try c.file("query-string-to-sign.txt")))
        #expect(s.signature == (try c.file("query-signature.txt")).trimmingCharacters(in: .whitespacesAndNewlines))
        // The signed request's query carries the same items (in its own order; compared decoded).
        let line = try c.file("query-signed-request.txt").split(separator: "\n")[0]
        let target = line.drop { $0 != " " }.dropFirst().dropLast(" HTTP/1.1".count)
        let sent = target.split(separator: "?", maxSplits: 1).dropFirst().first.map { $0.split(separator: "&").map { Self.percentDecoded($0) } } ?? []
        let ours = SigV4.queryString(s.items).split(separator: "&").map { Self.percentDecoded($0) }
        #expect(Set(ours) == Set(sent))
    }
}
