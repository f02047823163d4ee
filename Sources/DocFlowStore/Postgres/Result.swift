import CLibPQ
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

    func column(_ name: String) -> Int32 {
        guard let c = columnIndex[name] else { preconditionFailure("no column \(name) in result") }
        return c
    }
}

/// One row of a `PGResult`, read by column name.
public struct Row {
    let result: PGResult
    let row: Int32

    /// The column's text, or nil for NULL.
    public func string(_ name: String) -> String? {
        let c = result.column(name)
        if PQgetisnull(result.handle, row, c) != 0 { return nil }
        return String(cString: PQgetvalue(result.handle, row, c))
    }

    public func int(_ name: String) -> Int? { string(name).flatMap { Int($0) } }
    public func double(_ name: String) -> Double? { string(name).flatMap { Double($0) } }
    public func bool(_ name: String) -> Bool? { string(name).map { $0 == "t" } }
    public func uuid(_ name: String) -> UUID? { string(name).flatMap { UUID(uuidString: $0) } }
}
