/// A file operation in storage failed. `message` is safe to show a client; paths and the system's
/// reason stay in `cause` (shown only by `String(reflecting:)`, in logs).
public struct StorageError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    public var message: String
    public var cause: String
    /// The object is not there.
    public var isNotFound = false
    /// The store did not answer (or answered that it cannot now): worth a retry later.
    public var isTransient = false

    public init(_ message: String, cause: String, isNotFound: Bool = false, isTransient: Bool = false) {
        self.message = message
        self.cause = cause
        self.isNotFound = isNotFound
        self.isTransient = isTransient
    }

    /// A missing object.
    public static func notFound(_ key: String) -> StorageError {
        StorageError("A stored file is missing.", cause: "no object \(key)", isNotFound: true)
    }

    public var description: String { message }
    public var debugDescription: String { "StorageError: \(message) [\(cause)]" }
}
