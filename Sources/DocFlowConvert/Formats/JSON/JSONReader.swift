import DocFlowCore
import DocFlowModel

/// Tables from JSON: an array of objects (one row each), an array of arrays (the first row the
/// header when it is all strings), an array of scalars (one column `value`), a single object (one
/// row), or JSON Lines (one value per line; `.jsonl` / `.ndjson`, or any file holding several
/// values). Nested objects are flattened with dotted keys (`{"a": {"b": 1}}` → column `a.b`);
/// arrays inside a row become their JSON text. Integers and doubles stay apart; numbers no machine
/// type holds exactly keep their text; an empty string in an otherwise numeric, boolean or date
/// column is a blank (null), as an empty CSV cell is.
public struct JSONReader: TableStreamReader {
    public let format: Format
    public init(format: Format = .json) { self.format = format }

    /// Flat records (the common case) stream from the mapped file; any other shape is read whole.
    public func stream(_ input: InputBytes, context: ConversionContext) throws -> TableStream {
        let whitespace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        let skip = input.buffer.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        if input.buffer.dropFirst(skip).allSatisfy(whitespace) { throw ConversionError(.malformedInput, "The JSON file is empty.") }
        if TextDecoding.plainUTF8(input) == skip, let stream = FlatJSON.stream(input, skip: skip, context: context) {
            return stream
        }
        return TableStream(try general(Array(input.buffer[skip...]), context: context))
    }

    /// Any shape, through a small tree per record.
    func general(_ body: [UInt8], context: ConversionContext) throws -> Table {
        // Records are taken one at a time from the top-level array (or line by line), so the whole
        // document is never held as a tree. A shape seen late (a header row followed by a non-row,
        // an array followed by more values) restarts once with what it revealed.
        var shape = Shape(headerRow: true, topArrayHoldsRecords: true)
        var built: RecordTableBuilder? = nil
        for _ in 0..<3 where built == nil { built = try records(body, shape: &shape, context: context) }
        guard var builder = built else { throw ConversionError(.internal, "The JSON file's shape could not be settled.") }
        built = nil  // the builder hands its cells over column by column
        context.progress(40, "building the table")
        let table = builder.table()
        if table.columns.isEmpty { throw ConversionError(.malformedInput, "The JSON file holds no fields to make columns of.") }
        return table
    }

    struct Shape {
        /// An array of strings first, then arrays: the strings are the header.
        var headerRow: Bool
        /// One top-level array: its elements are the records (else each top-level value is one).
        var topArrayHoldsRecords: Bool
    }

    /// Reads the records into a builder, or returns nil after changing `shape` when the document
    /// turns out to be another shape than assumed.
    private func records(_ body: [UInt8], shape: inout Shape, context: ConversionContext) throws -> RecordTableBuilder? {
        var p = JSONParser(body)
        var builder = RecordTableBuilder()
        var header: [String]? = nil
        var first = true
        func add(_ r: JSONNode) -> Bool {
            defer { first = false }
            if first, shape.headerRow, case .array(let head) = r,
               head.allSatisfy({ if case .string = $0 { return true }; return false }) {
                header = head.map { if case .string(let s) = $0 { return s }; return "" }
                return true
            }
            switch r {
            case .object(let members):
                if header != nil { return false }
                builder.add(members)
            case .array(let cells):
                builder.add(cells.enumerated().map { i, v in (header.map { i < $0.count ? $0[i] : "column_\(i + 1)" } ?? "column_\(i + 1)", v) })
            default:
                if header != nil { return false }
                builder.add([("value", r)])
            }
            if builder.rows & 0xFFFF == 0 { context.progress(5 + min(30, 30 * p.pos / max(body.count, 1)), "reading JSON") }
            return true
        }
        p.skipSpace()
        if shape.topArrayHoldsRecords && body[p.pos] == 0x5B {
            p.pos += 1
            p.skipSpace()
            if p.pos < body.count && body[p.pos] == 0x5D {
                p.pos += 1
            } else {
                while true {
                    guard add(try p.parseValue()) else { shape.headerRow = false; return nil }
                    p.skipSpace()
                    guard p.pos < body.count else { throw p.error("an array is not closed") }
                    if body[p.pos] == 0x2C { p.pos += 1; continue }
                    guard body[p.pos] == 0x5D else { throw p.error("expected , or ] in an array") }
                    p.pos += 1
                    break
                }
            }
            if !p.atEnd { shape.topArrayHoldsRecords = false; return nil }  // several arrays: JSON Lines of rows
            if header != nil && builder.rows == 0 && first == false && builder.names.isEmpty {
                // Just one array of strings: it is a row of values, not a header.
                shape.headerRow = false
                return nil
            }
            return builder
        }
        // JSON Lines (or one value): each top-level value is a record.
        repeat {
            guard add(try p.parseValue()) else { shape.headerRow = false; return nil }
        } while !p.atEnd
        if header != nil && builder.rows == 0 { shape.headerRow = false; return nil }
        return builder
    }
}

/// Rows of (key, value) pairs → typed columns in first-seen key order. Cells are kept per column
/// until every row is in, then typed.
struct RecordTableBuilder {
    var index: [String: Int] = [:]
    var names: [String] = []
    var cells: [[JSONNode?]] = []
    var rows = 0

    mutating func add(_ members: [(String, JSONNode)]) {
        func put(_ key: String, _ v: JSONNode) {
            if case .object(let inner) = v, !inner.isEmpty {
                for (k, x) in inner { put(key + "." + k, x) }
                return
            }
            let c: Int
            if let i = index[key] {
                c = i
            } else {
                c = names.count
                index[key] = c
                names.append(key)
                cells.append([JSONNode?](repeating: nil, count: rows + 1))
            }
            if cells[c].count == rows + 1 { cells[c][rows] = v } else {
                cells[c] += repeatElement(nil, count: rows - cells[c].count)
                cells[c].append(v)
            }
        }
        for (k, v) in members { put(k, v) }
        rows += 1
    }

    mutating func table() -> Table {
        var columns: [Column] = []
        var data: [ColumnValues] = []
        for c in names.indices {
            var column = cells[c]
            cells[c] = []
            if column.count < rows { column += repeatElement(nil, count: rows - column.count) }
            let type = Self.type(of: column)
            var values = ColumnValues(type: type, capacity: rows)
            for cell in column where !values.append(Self.value(cell, as: type)) { values.appendNull() }
            columns.append(Column(name: names[c], type: type))
            data.append(values)
        }
        return Table(columns: zip(ColumnNames.unique(names), columns).map { Column(name: $0, type: $1.type) }, data: data)
    }

    static func type(of cells: [JSONNode?]) -> ColumnType {
        var ints = 0, doubles = 0, bools = 0, strings = 0, other = 0
        for case let c? in cells {
            switch c {
            case .null, .string(""): continue  // "" in a typed column is a blank, as an empty CSV cell
            case .int: ints += 1
            case .double: doubles += 1
            case .bool: bools += 1
            case .string: strings += 1
            default: other += 1
            }
        }
        let total = ints + doubles + bools + strings + other
        if total == 0 || other > 0 { return .string }
        if strings > 0 && strings < total { return .string }
        if ints == total { return .int64 }
        if ints + doubles == total { return .double }
        if bools == total { return .boolean }
        if strings == total {
            let texts = cells.lazy.compactMap { c -> String? in if case .string(let s)? = c, !s.isEmpty { return s }; return nil }
            if texts.allSatisfy(TypeInference.isDate) { return .date }
            if texts.allSatisfy(TypeInference.isTimestamp) { return .timestamp }
        }
        return .string
    }

    static func value(_ cell: JSONNode?, as type: ColumnType) -> Value {
        guard let cell = cell else { return .null }
        switch (cell, type) {
        case (.null, _): return .null
        case (.string(""), let t) where t != .string: return .null
        case (.int(let i), .double): return .double(Double(i))
        case (.int(let i), _) where type != .string: return .int(i)
        case (.double(let d), .double): return .double(d)
        case (.bool(let b), .boolean): return .bool(b)
        case (.string(let s), .date), (.string(let s), .timestamp): return .temporal(s)
        case (.string(let s), _): return .string(s)
        default: return .string(JSONText.serialise(cell))
        }
    }
}

extension JSONText {
    /// A JSON node back to compact JSON text (nested arrays in flat outputs).
    static func serialise(_ node: JSONNode) -> String {
        switch node {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return "\(d)"
        case .bigNumber(let s): return s
        case .string(let s): return quoted(s)
        case .array(let items): return "[" + items.map(serialise).joined(separator: ",") + "]"
        case .object(let members): return "{" + members.map { quoted($0.0) + ":" + serialise($0.1) }.joined(separator: ",") + "}"
        }
    }
}
