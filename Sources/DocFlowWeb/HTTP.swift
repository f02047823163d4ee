import Foundation

/// Where a request body comes from: the FastCGI input stream, or memory in tests.
public protocol BodyReader: AnyObject {
    /// Reads up to `buffer.count` bytes; 0 at the end of the body.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int
}

/// A body held in memory.
public final class BytesBody: BodyReader {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public convenience init(_ text: String) { self.init(Array(text.utf8)) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = min(buffer.count, bytes.count - offset)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { src in buffer.baseAddress!.copyMemory(from: src.baseAddress! + offset, byteCount: n) }
        offset += n
        return n
    }
}

/// An HTTP request as the web layer sees it: plain values, no FastCGI.
public struct Request {
    public var method: String
    /// The path without the query string, percent-decoding not applied.
    public var path: String
    public var query: [String: String]
    /// Header names in lower case (`cookie`, `content-type`, `idempotency-key`).
    public var headers: [String: String]
    public var contentLength: Int64?
    public var remoteAddress: String
    public var isTLS: Bool
    public var body: BodyReader

    public init(method: String, uri: String, headers: [String: String] = [:], contentLength: Int64? = nil,
                remoteAddress: String = "127.0.0.1", isTLS: Bool = false, body: BodyReader = BytesBody([])) {
        self.method = method.uppercased()
        if let q = uri.firstIndex(of: "?") {
            path = String(uri[..<q])
            query = Request.parseQuery(String(uri[uri.index(after: q)...]))
        } else {
            path = uri
            query = [:]
        }
        self.headers = headers
        self.contentLength = contentLength
        self.remoteAddress = remoteAddress
        self.isTLS = isTLS
        self.body = body
    }

    /// `a=1&b=x%20y` → ["a": "1", "b": "x y"] (the first value of a repeated key wins).
    static func parseQuery(_ s: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in s.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = decode(String(parts[0]))
            let value = parts.count > 1 ? decode(String(parts[1])) : ""
            if out[key] == nil { out[key] = value }
        }
        return out
    }

    static func decode(_ s: String) -> String {
        s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? s
    }

    /// Reads the whole body, refusing more than `limit` bytes.
    public func readBody(limit: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { body.read(into: $0) }
            if n <= 0 { break }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit { throw APIError(413, "too_large", "The request body is larger than \(limit) bytes.") }
        }
        return out
    }

    /// The value of a cookie.
    public func cookie(_ name: String) -> String? {
        guard let header = headers["cookie"] else { return nil }
        for part in header.split(separator: ";") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces) == name {
                return kv[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}

/// An HTTP response: status, headers, body.
/// Where a streamed response body goes (fcgi-app: the FastCGI output stream).
public protocol BodyWriter {
    /// Sends these bytes; throws when the client has gone.
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

public struct Response {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// A body written piece by piece after the head, instead of `body` (archives: never whole in
    /// memory). Its errors can no longer change the status: the body just ends early.
    public var stream: ((BodyWriter) throws -> Void)?

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
        self.stream = nil
    }

    /// A JSON response from JSON text.
    public static func json(_ status: Int, _ text: String, headers: [(String, String)] = []) -> Response {
        Response(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array((text + "\n").utf8))
    }

    /// The first value of a header (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    static let reasons: [Int: String] = [200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request",
        403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 410: "Gone", 411: "Length Required",
        413: "Payload Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content", 429: "Too Many Requests",
        500: "Internal Server Error", 503: "Service Unavailable"]

    /// The CGI-style head (`Status:` line and headers) FastCGI responders send.
    public var cgiHead: String {
        var head = "Status: \(status) \(Response.reasons[status] ?? "")\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        // A streamed body's length is not known: nginx frames it (chunked) itself.
        if header("Content-Length") == nil, stream == nil { head += "Content-Length: \(body.count)\r\n" }
        return head + "\r\n"
    }
}
