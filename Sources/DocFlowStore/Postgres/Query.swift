import DocFlowCore
import Foundation

/// A value that can be sent to PostgreSQL as a text-format parameter.
public protocol PGBindable {
    /// The parameter's text, or nil for SQL NULL.
    var pgText: String? { get }
}

extension String: PGBindable { public var pgText: String? { self } }
extension Int: PGBindable { public var pgText: String? { String(self) } }
extension Int64: PGBindable { public var pgText: String? { String(self) } }
extension Int32: PGBindable { public var pgText: String? { String(self) } }
extension Double: PGBindable { public var pgText: String? { "\(self)" } }
extension Bool: PGBindable { public var pgText: String? { self ? "t" : "f" } }
extension UUID: PGBindable { public var pgText: String? { uuidString.lowercased() } }
extension JobStatus: PGBindable { public var pgText: String? { rawValue } }
extension Optional: PGBindable where Wrapped: PGBindable { public var pgText: String? { self?.pgText } }

/// SQL whose interpolated values become `$n` parameters, never text in the statement
/// (postgres-nio's `PostgresQuery`): `"SELECT … WHERE id = \(id)"`.
public struct Query: ExpressibleByStringInterpolation, Sendable {
    public var sql: String
    public var binds: [String?]

    public init(stringLiteral value: String) {
        sql = value
        binds = []
    }

    public init(stringInterpolation: Interpolation) {
        sql = stringInterpolation.sql
        binds = stringInterpolation.binds
    }

    public struct Interpolation: StringInterpolationProtocol {
        var sql = ""
        var binds: [String?] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
        }

        public mutating func appendLiteral(_ literal: String) { sql += literal }

        /// A value: becomes the next `$n`.
        public mutating func appendInterpolation<T: PGBindable>(_ value: T) {
            binds.append(value.pgText)
            sql += "$\(binds.count)"
        }

        /// A job state, written into the statement as a typed literal (`'PENDING'::job_status`), not
        /// bound: it is one of the enum's own constants, never input, and a literal lets the
        /// planner match the partial indexes (`jobs_claim … WHERE status = 'PENDING'`).
        public mutating func appendInterpolation(_ status: JobStatus) {
            sql += "'\(status.rawValue)'::job_status"
        }

        /// A fragment of SQL written into the statement: a compile-time constant only (a column
        /// list shared by queries), so no input can ever reach the text of a statement.
        public mutating func appendInterpolation(sql fragment: StaticString) {
            sql += fragment.description
        }

        /// An optional value: NULL when nil.
        public mutating func appendInterpolation<T: PGBindable>(_ value: T?) {
            binds.append(value?.pgText)
            sql += "$\(binds.count)"
        }
    }
}
