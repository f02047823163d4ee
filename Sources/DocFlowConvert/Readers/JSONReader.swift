import DocFlowModel

/// Tables from JSON: an array of objects (one row each), an array of arrays (the first row the
/// header when it is all strings), an array of scalars (one column `value`), a single object (one
/// row), or JSON Lines (one value per line; `.jsonl` / `.ndjson`, or any file holding several
/// values). Nested objects are flattened with dotted keys (`{"a": {"b": 1}}` → column `a.b`);
/// arrays inside a row become their JSON text. Integers and doubles stay apart; numbers no machine
/// type holds exactly keep their text; an empty string in an otherwise numeric, boolean or date
/// column is a blank (null), as an empty CSV cell is.
public struct JSONReader: Reader {
    public let format: Format
    public init(format: Format = .json) { self.format = format }

    public func read(_ bytes: [UInt8], context: ConversionContext) throws -> Payload {
        var body = bytes
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body.removeFirst(3) }
        var parser = JSONParser(body)
        if parser.atEnd { throw ConversionError(.malformedInput, "The JSON file is empty.") }
        var top: [JSONNode] = []
        // Several values in a row are JSON Lines, whatever the file is called; text after a value
        // that is not another value fails with its position.
        repeat { top.append(try parser.parseValue()) } while !parser.atEnd
        context.progress(30, "building the table")
        let records: [JSONNode]
        if top.count == 1, case .array(let items) = top[0] { records = items } else { records = top }
        var builder = RecordTableBuilder()
        if let first = records.first, case .array(let head) = first,
           head.allSatisfy({ if case .string = $0 { return true }; return false }),
           records.dropFirst().allSatisfy({ if case .array = $0 { return true }; return false }) {
            let names = head.map { if case .string(let s) = $0 { return s }; return "" }
            for r in records.dropFirst() {
                guard case .array(let cells) = r else { continue }
                builder.add(cells.enumerated().map { i, v in (i < names.count ? names[i] : "column_\(i + 1)", v) })
            }
        } else {
            for r in records {
                switch r {
                case .object(let members): builder.add(members)
                case .array(let cells): builder.add(cells.enumerated().map { ("column_\($0 + 1)", $1) })
                default: builder.add([("value", r)])
                }
            }
        }
        var table = builder.table()
        table.metadata.properties["rows"] = .number(table.rows.count)
        table.metadata.properties["columns"] = .number(table.columns.count)
        if table.columns.isEmpty { throw ConversionError(.malformedInput, "The JSON file holds no fields to make columns of.") }
        return .table(table)
    }
}

/// Rows of (key, value) pairs → typed columns in first-seen key order.
struct RecordTableBuilder {
    var index: [String: Int] = [:]
    var names: [String] = []
    var rows: [[JSONNode?]] = []

    mutating func add(_ members: [(String, JSONNode)]) {
        var row = [JSONNode?](repeating: nil, count: names.count)
        func put(_ key: String, _ v: JSONNode) {
            if case .object(let inner) = v, !inner.isEmpty {
                for (k, x) in inner { put(key + "." + k, x) }
                return
            }
            let c: Int
            if let i = index[key] { c = i } else { c = names.count; index[key] = c; names.append(key); row.append(nil) }
            row[c] = v
        }
        for (k, v) in members { put(k, v) }
        rows.append(row)
    }

    func table() -> Table {
        var columns: [Column] = []
        var typed = [[Value]](repeating: [], count: rows.count)
        for c in names.indices {
            let cells = rows.map { c < $0.count ? $0[c] : nil }
            let type = Self.type(of: cells)
            columns.append(Column(name: names[c], type: type))
            for (r, cell) in cells.enumerated() { typed[r].append(Self.value(cell, as: type)) }
        }
        return Table(columns: zip(CSVReader.uniqueNames(names), columns).map { Column(name: $0, type: $1.type) }, rows: typed)
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
            let texts = cells.lazy.compactMap { c -> String? in if case .string(let s)? = c { return s }; return nil }
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
