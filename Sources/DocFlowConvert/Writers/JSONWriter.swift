import DocFlowModel

/// A table as a JSON array of objects, one per row, or as JSON Lines (one object per line); values
/// typed (numbers, booleans, null, strings; dates and timestamps as ISO 8601 strings).
public struct JSONWriter: Writer {
    public let format: Format
    public let accepts: Set<Hub> = [.table]
    public init(format: Format = .json) { self.format = format }

    public func write(_ payload: Payload, context: ConversionContext) throws -> [UInt8] {
        guard case .table(let table) = payload else {
            throw ConversionError(.unsupportedConversion, "JSON output needs a table.")
        }
        let keys = table.columns.map { JSONText.quoted($0.name) }
        var out: [UInt8] = []
        out.reserveCapacity(table.rows.count * max(16, keys.count * 16))
        let lines = format.id == Format.jsonLines.id
        let open = lines ? Array("{".utf8) : Array("\n  {".utf8)
        let next = lines ? Array("\n{".utf8) : Array(",\n  {".utf8)
        if !lines { out.append(0x5B) }  // [
        for (r, row) in table.rows.enumerated() {
            out.append(contentsOf: r == 0 ? open : next)
            for (c, value) in row.enumerated() {
                if c > 0 { out.append(contentsOf: [0x2C, 0x20]) }
                out.append(contentsOf: keys[c].utf8)
                out.append(contentsOf: [0x3A, 0x20])
                JSONText.append(value, to: &out)
            }
            out.append(0x7D)
            if r & 0xFFF == 0 { context.progress(60 + 40 * r / max(table.rows.count, 1), "writing JSON") }
        }
        if lines {
            if !table.rows.isEmpty { out.append(0x0A) }
        } else {
            out.append(contentsOf: table.rows.isEmpty ? Array("]\n".utf8) : Array("\n]\n".utf8))
        }
        return out
    }
}

extension JSONText {
    static func append(_ value: Value, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): out.append(contentsOf: (d.isFinite ? "\(d)" : "null").utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .temporal(let s), .string(let s): out.append(contentsOf: quoted(s).utf8)
        }
    }
}
