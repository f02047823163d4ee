import CLibPQ
import DocFlowCore
import Foundation

/// The rows of one statement's result (text format). Owns its `PGresult` and frees it with
/// `PQclear` in `deinit`.
public final class PGResult {
    let handle: OpaquePointer
    /// Number of rows.
    public let count: Int
    /// Rows changed by an INSERT / UPDATE / DELETE.
    public let affectedRows: Int
    private let columnIndex: [String: Int32]

    init(_ handle: OpaquePointer) {
        self.handle = handle
        count = Int(PQntuples(handle))
        affectedRows = Int(String(cString: PQcmdTuples(handle))) ?? 0
        var index: [String: Int32] = [:]
        for c in 0..<PQnfields(handle) { index[String(cString: PQfname(handle, c))] = c }
        columnIndex = index
    }

    deinit { PQclear(handle) }

    /// The row at `i`.
    public subscript(_ i: Int) -> Row { Row(result: self, row: Int32(i)) }

    /// All rows.
    public var rows: [Row] { (0..<count).map { self[$0] } }

    /// The first row, if any.
    public var first: Row? { count > 0 ? self[0] : nil }

    /// The index of a column, or nil when the statement did not return it.
    func column(_ name: String) -> Int32? { columnIndex[name] }
}

/// A column type a row can be decoded into (PostgreSQL's text format).
public protocol PGDecodable {
    init?(pgText: String)
}

extension String: PGDecodable { public init?(pgText: String) { self = pgText } }
extension Int: PGDecodable { public init?(pgText: String) { self.init(pgText) } }
extension Int64: PGDecodable { public init?(pgText: String) { self.init(pgText) } }
extension Double: PGDecodable { public init?(pgText: String) { self.init(pgText) } }
extension Bool: PGDecodable {
    public init?(pgText: String) {
        switch pgText { case "t": self = true; case "f": self = false; default: return nil }
    }
}
extension UUID: PGDecodable { public init?(pgText: String) { self.init(uuidString: pgText) } }
extension JobStatus: PGDecodable { public init?(pgText: String) { self.init(rawValue: pgText) } }

/// One row of a `PGResult`, read by column name. `decode` throws when the column is missing,
/// NULL or not of the type asked for — no silent default; `decodeIfPresent` allows NULL only.
public struct Row {
    let result: PGResult
    let row: Int32

    /// The column's value; throws `StoreError(.query)` when it is missing, NULL or malformed.
    public func decode<T: PGDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let v: T = try decodeIfPresent(name) else {
            throw StoreError(.query, "A stored value is missing.", cause: "column \(name) is NULL")
        }
        return v
    }

    /// The column's value, or nil for NULL; throws when it is missing from the result or malformed.
    public func decodeIfPresent<T: PGDecodable>(_ name: String, as type: T.Type = T.self) throws -> T? {
        guard let c = result.column(name) else {
            throw StoreError(.query, "A stored value is missing.", cause: "no column \(name) in the result")
        }
        if PQgetisnull(result.handle, row, c) != 0 { return nil }
        let text = String(cString: PQgetvalue(result.handle, row, c))
        guard let v = T(pgText: text) else {
            throw StoreError(.query, "A stored value is malformed.", cause: "column \(name): \(T.self) from \(text.prefix(40))")
        }
        return v
    }
}
