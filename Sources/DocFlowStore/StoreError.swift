/// An error from the store. `message` is safe to show a client; SQL and paths stay in `cause`.
public struct StoreError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// The database cannot be reached (HTTP 503).
        case unavailable
        /// A statement failed; `sqlState` says why.
        case query
        /// Migrations or configuration are wrong.
        case setup
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

    /// The SQLSTATE classes and codes the callers act on, by name.
    public var isCheckViolation: Bool { sqlState == SQLState.checkViolation }
    public var isUniqueViolation: Bool { sqlState == SQLState.uniqueViolation }
    public var isLockNotAvailable: Bool { sqlState == SQLState.lockNotAvailable }
    /// Lost a deadlock or a serialization race: the statement may simply be run again.
    public var isRaceLost: Bool { sqlState == SQLState.deadlockDetected || sqlState == SQLState.serializationFailure }
    /// Class 22: a value PostgreSQL cannot store or cast (the request's fault, not ours).
    public var isDataException: Bool { sqlState.hasPrefix(SQLState.dataExceptionClass) }

    public var description: String { message }
    public var debugDescription: String {
        "StoreError(\(code.rawValue)\(sqlState.isEmpty ? "" : " " + sqlState)): \(message)" + (cause.map { " [\($0)]" } ?? "")
    }
}

/// The SQLSTATE codes Doc Flow acts on (PostgreSQL's Appendix A), named once.
public enum SQLState {
    /// 23514: a CHECK constraint refused the row (the quota: `bytes_used <= quota_bytes`).
    public static let checkViolation = "23514"
    /// 23505: a unique index refused the row (an `Idempotency-Key` already used).
    public static let uniqueViolation = "23505"
    /// 23503: a foreign key names a row that is not there (a client gone).
    public static let foreignKeyViolation = "23503"
    /// 55P03: `NOWAIT` or `lock_timeout` could not get a lock.
    public static let lockNotAvailable = "55P03"
    /// 40P01: this transaction was chosen to break a deadlock.
    public static let deadlockDetected = "40P01"
    /// 40001: a serialization failure.
    public static let serializationFailure = "40001"
    /// Class 22, data exceptions (invalid text, out-of-range values).
    public static let dataExceptionClass = "22"
}
