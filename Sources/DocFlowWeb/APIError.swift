import DocFlowCore
import DocFlowFormats
import DocFlowStore

/// An error with an HTTP status, sent as `{"error": {"code": …, "message": …, …}}`.
public struct APIError: Error, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    /// Extra fields of the error object (for instance `used` and `limit` for quota errors).
    public var extra: [String: Int64]

    public init(_ status: Int, _ code: String, _ message: String, extra: [String: Int64] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra
    }

    public var description: String { "\(status) \(code): \(message)" }

    public var response: Response {
        var fields = "\"code\": \(JSONText.quoted(code)), \"message\": \(JSONText.quoted(message))"
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) { fields += ", \(JSONText.quoted(k)): \(v)" }
        var r = Response.json(status, "{\"error\": {\(fields)}}")
        // When to come back (RFC 9110): a busy or unreachable dependency, as nginx's 429 and 503 say.
        if status == 503 || status == 429 { r.headers.append(("Retry-After", String(Self.retryAfterSeconds))) }
        return r
    }

    /// The `Retry-After` of 429 and 503 answers, in seconds.
    static let retryAfterSeconds = 2

    static let notFound = APIError(404, "not_found", "No such job.")
    static let unavailable = APIError(503, "database_unavailable", "The database is unavailable; try again shortly.")
    static let storageUnavailable = APIError(503, "storage_unavailable", "File storage is unavailable; try again shortly.")
}
