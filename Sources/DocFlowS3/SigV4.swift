import DocFlowCrypto
import Foundation

/// An access key pair (and a session token for temporary credentials). `description` never shows
/// the secret: credentials must not reach logs, errors or responses.
public struct AWSCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let accessKeyID: String
    public let secretAccessKey: String
    public let sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String { "AWSCredentials(\(accessKeyID), secret redacted)" }
    public var debugDescription: String { description }
}

/// AWS Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html):
/// the canonical request, the string to sign, the derived signing key and the signature, for
/// the header form (`Authorization`) and the query form (presigned URLs). Written here because no
/// package of the local set has it; held to AWS's own test suite (`Tests/Fixtures/sigv4`) and to
/// botocore's presigned URLs and POST policies (`DocFlowS3Tests`).
public struct SigV4: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    public static let algorithm = "AWS4-HMAC-SHA256"
    /// The payload hash of a request whose body is not signed (S3 presigned URLs).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// A request to sign: its path and query items decoded (they are encoded here), its headers
    /// as sent (`Host` among them).
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: [(name: String, value: String)]
        public var headers: [(name: String, value: String)]
        /// Hex SHA-256 of the body, or `unsignedPayload`.
        public var payloadHash: String

        public init(method: String, path: String, query: [(name: String, value: String)] = [],
                    headers: [(name: String, value: String)], payloadHash: String = SigV4.emptyPayloadHash) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    // MARK: the pieces

    /// `20150830T123600Z` and `20150830` for a time.
    public static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var tm = tm()
        gmtime_r(&t, &tm)
        func pad(_ v: Int32, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        let day = pad(tm.tm_year + 1900, 4) + pad(tm.tm_mon + 1, 2) + pad(tm.tm_mday, 2)
        return (day + "T" + pad(tm.tm_hour, 2) + pad(tm.tm_min, 2) + pad(tm.tm_sec, 2) + "Z", day)
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters (and `/` in paths).
    public static func uriEncode(_ s: String, keepSlash: Bool = false) -> String {
        var out = [UInt8]()
        out.reserveCapacity(s.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(b)
            case UInt8(ascii: "/") where keepSlash:
                out.append(b)
            default:
                out.append(UInt8(ascii: "%")); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The path with `.` and `..` segments resolved and empty segments dropped (a trailing slash
    /// kept), as SigV4 normalizes paths for every service but S3.
    public static func normalizedPath(_ path: String) -> String {
        var segments: [Substring] = []
        for s in path.split(separator: "/", omittingEmptySubsequences: true) {
            if s == "." { continue }
            if s == ".." { if !segments.isEmpty { segments.removeLast() }; continue }
            segments.append(s)
        }
        let trailing = path.hasSuffix("/") && !segments.isEmpty
        return "/" + segments.joined(separator: "/") + (trailing ? "/" : "")
    }

    /// The canonical request and its signed header names (`host;x-amz-date`).
    public func canonicalRequest(_ r: Request, normalizePath: Bool) -> (text: String, signedHeaders: String) {
        let path = normalizePath ? Self.normalizedPath(r.path) : (r.path.isEmpty ? "/" : r.path)
        var pairs: [(name: String, value: String)] = r.query.map { (Self.uriEncode($0.name), Self.uriEncode($0.value)) }
        pairs.sort { a, b in a.name != b.name ? a.name < b.name : a.value < b.value }
        let query = pairs.map { p -> String in p.name + "=" + p.value }.joined(separator: "&")
        var headers: [String: [String]] = [:]
        for (name, value) in r.headers {
            // Trimmed, runs of white space (folded lines included) made one space.
            let v = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
            headers[name.lowercased(), default: []].append(v)
        }
        let names = headers.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(headers[$0]!.joined(separator: ","))\n" }.joined()
        let signed = names.joined(separator: ";")
        let text = [r.method, Self.uriEncode(path, keepSlash: true), query, canonicalHeaders, signed, r.payloadHash].joined(separator: "\n")
        return (text, signed)
    }

    /// `20150830/us-east-1/service/aws4_request`.
    public func scope(day: String) -> String { "\(day)/\(region)/\(service)/aws4_request" }

    public func stringToSign(canonicalRequest: String, amzDate: String, day: String) -> String {
        [Self.algorithm, amzDate, scope(day: day), Digest.hex(Digest.sha256(Array(canonicalRequest.utf8)))].joined(separator: "\n")
    }

    /// The signature of a string to sign: HMAC chained over the day, region, service and
    /// `aws4_request` from `AWS4` + the secret key.
    public func signature(stringToSign: String, day: String) -> String {
        var key = Digest.hmacSHA256(key: Array("AWS4\(credentials.secretAccessKey)".utf8), day)
        key = Digest.hmacSHA256(key: key, region)
        key = Digest.hmacSHA256(key: key, service)
        key = Digest.hmacSHA256(key: key, "aws4_request")
        return Digest.hex(Digest.hmacSHA256(key: key, stringToSign))
    }

    // MARK: the two forms

    /// What signing made: the intermediate texts (for tests and diagnostics) and what to send.
    public struct Signed: Sendable {
        public let canonicalRequest: String
        public let stringToSign: String
        public let signature: String
        /// The header form: headers to add. The query form: the whole query to send.
        public let items: [(name: String, value: String)]
    }

    /// The header form: the headers to add to `r` (`X-Amz-Date`, `x-amz-content-sha256` when
    /// `signBody`, `X-Amz-Security-Token` (signed unless `signToken` is false), `Authorization`).
    public func signHeaders(_ r: Request, date: Date, normalizePath: Bool = true, signBody: Bool = false,
                            signToken: Bool = true) -> Signed {
        let (amzDate, day) = Self.timestamps(date)
        var req = r
        var added: [(name: String, value: String)] = [("X-Amz-Date", amzDate)]
        if signBody { added.append(("x-amz-content-sha256", r.payloadHash)) }
        if let token = credentials.sessionToken, signToken { added.append(("X-Amz-Security-Token", token)) }
        req.headers += added
        let (canonical, signed) = canonicalRequest(req, normalizePath: normalizePath)
        let sts = stringToSign(canonicalRequest: canonical, amzDate: amzDate, day: day)
        let sig = signature(stringToSign: sts, day: day)
        if let token = credentials.sessionToken, !signToken { added.append(("X-Amz-Security-Token", token)) }
        added.append(("Authorization", "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope(day: day)), SignedHeaders=\(signed), Signature=\(sig)"))
        return Signed(canonicalRequest: canonical, stringToSign: sts, signature: sig, items: added)
    }

    /// The query form (a presigned URL): the query to send, `r`'s own items first, then the
    /// `X-Amz-*` ones, the signature last; valid `expires` seconds from `date`. Every header of
    /// `r` is signed (at least `Host`).
    public func presign(_ r: Request, date: Date, expires: Int, normalizePath: Bool = true, signToken: Bool = true) -> Signed {
        let (amzDate, day) = Self.timestamps(date)
        let signedNames = Set(r.headers.map { $0.name.lowercased() }).sorted().joined(separator: ";")
        var auth: [(name: String, value: String)] = [
            ("X-Amz-Algorithm", Self.algorithm), ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(day: day))"),
            ("X-Amz-Date", amzDate), ("X-Amz-Expires", String(expires)), ("X-Amz-SignedHeaders", signedNames),
        ]
        if let token = credentials.sessionToken, signToken { auth.append(("X-Amz-Security-Token", token)) }
        var req = r
        req.query += auth
        let (canonical, _) = canonicalRequest(req, normalizePath: normalizePath)
        let sts = stringToSign(canonicalRequest: canonical, amzDate: amzDate, day: day)
        let sig = signature(stringToSign: sts, day: day)
        if let token = credentials.sessionToken, !signToken { auth.append(("X-Amz-Security-Token", token)) }
        return Signed(canonicalRequest: canonical, stringToSign: sts, signature: sig, items: r.query + auth + [("X-Amz-Signature", sig)])
    }

    /// Query items as they go on a URL (each name and value encoded as in the canonical query).
    public static func queryString(_ items: [(name: String, value: String)]) -> String {
        items.map { "\(uriEncode($0.name))=\(uriEncode($0.value))" }.joined(separator: "&")
    }
}
