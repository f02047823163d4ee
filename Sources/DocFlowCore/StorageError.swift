/// A file operation in storage failed. `message` is safe to show a client; paths and the system's
/// reason stay in `cause` (shown only by `String(reflecting:)`, in logs).
public struct StorageError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    public var message: String
    public var cause: String

    public init(_ message: String, cause: String) {
        self.message = message
        self.cause = cause
    }

    public var description: String { message }
    public var debugDescription: String { "StorageError: \(message) [\(cause)]" }
}
