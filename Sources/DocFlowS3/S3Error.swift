/// A failed request to the object store. `message` is safe to show; the URL (which may carry a
/// presigned query) is never part of it, and no credential ever is.
public struct S3Error: Error, CustomStringConvertible, Sendable {
    /// The HTTP status (0: no answer: the store is unreachable or the connection broke).
    public let status: Int
    /// The store's error code (`NoSuchKey`, `SignatureDoesNotMatch`…) or libcurl's error text.
    public let code: String
    public let message: String

    public var description: String { "S3Error(\(status) \(code)): \(message)" }
    /// The store did not answer or answered 5xx: worth a retry later.
    public var isTransient: Bool { status == 0 || status >= 500 }
}
