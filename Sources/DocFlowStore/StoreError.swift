/// An error from the store. `message` is safe to show a client; SQL and paths stay in `cause`.
public struct StoreError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// The database cannot be reached (HTTP 503).
        case unavailable
        /// A statement failed; `sqlState` says why.
        case query
        /// Migrations or configuration are wrong.
        case setup
        /// A file operation in storage failed.
        case storage
    }

    public var code: Code
    public var message: String
    /// The five-character SQLSTATE of a failed statement (23505 unique violation, 23514 check…).
    public var sqlState: String
    public var cause: String?

    public init(_ code: Code, _ message: String, sqlState: String = "", cause: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.cause = cause
    }

    public var description: String { message }
    public var debugDescription: String {
        "StoreError(\(code.rawValue)\(sqlState.isEmpty ? "" : " " + sqlState)): \(message)" + (cause.map { " [\($0)]" } ?? "")
    }
}
