import DocFlowS3
import Foundation
import Testing

/// Presigned URLs and POST forms against botocore's for the same inputs
/// (`Tests/Fixtures/sigv4-botocore/cases.json`, made by its `generate.py`; `scripts/test` checks
/// that the pinned botocore still makes exactly that file).
@Suite struct BotocoreTests {
    struct Cases: Decodable {
        struct URLCase: Decodable {
            let method: String, bucket: String, key: String, params: [String: String], token: String?, expires: Int, url: String
        }
        struct PostCase: Decodable {
            let bucket: String, key: String, size: Int64, token: String?, expires: Int, url: String, fields: [String: String]
        }
        let now: String, region: String, access_key_id: String, secret_access_key: String
        let urls: [URLCase], posts: [PostCase]
    }

    let cases: Cases
    let now: Date

    init() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/sigv4-botocore/cases.json")
        cases = try JSONDecoder().decode(Cases.self, from: Data(contentsOf: url))
        now = ISO8601DateFormatter().date(from: cases.now)!
    }

    func signer(_ token: String?) -> SigV4 {
        SigV4(credentials: AWSCredentials(accessKeyID: cases.access_key_id, secretAccessKey: cases.secret_access_key, sessionToken: token),
              region: cases.region, service: "s3")
    }

    /// The decoded query items of a URL, in order.
    func query(_ url: String) -> [String] {
        let q = url.split(separator: "?", maxSplits: 1).dropFirst().first ?? ""
        return q.split(separator: "&").map { String($0).removingPercentEncoding ?? String($0) }
    }

    @Test func presignedURLsAreBotocores() throws {
        #expect(cases.urls.count == 30)
        for c in cases.urls {
            // S3: the path as it is (no normalization), host signed, the payload unsigned.
            let request = SigV4.Request(method: c.method, path: "/\(c.bucket)/\(c.key)", query: c.params.map { ($0.key, $0.value) },
                                        headers: [("host", "127.0.0.1:8333")], payloadHash: SigV4.unsignedPayload)
            let signed = signer(c.token).presign(request, date: now, expires: c.expires, normalizePath: false)
            let ours = SigV4.queryString(signed.items).split(separator: "&").map { String($0).removingPercentEncoding ?? String($0) }
            #expect(ours == query(c.url), "\(c.method) \(c.key)")
            #expect(query(c.url).last == "X-Amz-Signature=\(signed.signature)", "\(signed.canonicalRequest)\n\(signed.stringToSign)")
        }
    }

    @Test func postFormsAreBotocores() throws {
        #expect(cases.posts.count == 4)
        for c in cases.posts {
            let policy = PostPolicy(bucket: c.bucket, key: c.key, expiration: now.addingTimeInterval(Double(c.expires)),
                                    conditions: [.contentLengthRange(c.size, c.size), .equals("Content-Type", "application/octet-stream")],
                                    fields: [("Content-Type", "application/octet-stream")])
            let fields = policy.formFields(signer: signer(c.token), date: now)
            #expect(Dictionary(fields.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }) == c.fields, "\(c.key)")
        }
    }

    @Test func jsonEscapesAsPython() {
        let p = PostPolicy(bucket: "b", key: "ä\"\\\n😀", expiration: now)
        #expect(p.document(signer: signer(nil), date: now).contains(#"{"key": "\u00e4\"\\\n\ud83d\ude00"}"#))
    }

    @Test func credentialsNeverPrintTheirSecret() {
        let c = AWSCredentials(accessKeyID: "AKIA", secretAccessKey: "very-secret", sessionToken: "tok")
        #expect(!"\(c)".contains("very-secret") && !String(reflecting: c).contains("very-secret") && !"\(c)".contains("tok"))
    }
}
