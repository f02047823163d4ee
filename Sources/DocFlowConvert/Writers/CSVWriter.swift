import DocFlowModel

/// RFC 4180 CSV in UTF-8: a header row, CRLF line ends, fields quoted when they hold the delimiter,
/// a quote, CR or LF (or start or end with a space). `delimiter` option as for the reader.
public struct CSVWriter: Writer {
    public let format = Format.csv
    public let accepts: Set<Hub> = [.table]
    public init() {}

    public func write(_ payload: Payload, context: ConversionContext) throws -> [UInt8] {
        guard case .table(let table) = payload else {
            throw ConversionError(.unsupportedConversion, "CSV output needs a table.")
        }
        let delimiter = try CSVReader.delimiterOption(context) ?? 0x2C
        var out: [UInt8] = []
        out.reserveCapacity(table.rows.count * max(8, table.columns.count * 10))
        func field(_ s: String) {
            let u = s.utf8
            let needsQuotes = u.contains { $0 == delimiter || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
                || u.first == 0x20 || u.last == 0x20
            if needsQuotes {
                out.append(0x22)
                for b in u { if b == 0x22 { out.append(0x22) }; out.append(b) }
                out.append(0x22)
            } else {
                out.append(contentsOf: u)
            }
        }
        for (i, c) in table.columns.enumerated() {
            if i > 0 { out.append(delimiter) }
            field(c.name)
        }
        out += [0x0D, 0x0A]
        for (r, row) in table.rows.enumerated() {
            for (i, v) in row.enumerated() {
                if i > 0 { out.append(delimiter) }
                switch v {
                case .null: break
                case .int(let n): out.append(contentsOf: String(n).utf8)
                case .string(let s), .temporal(let s): field(s)
                default: field(v.text)
                }
            }
            out += [0x0D, 0x0A]
            if r & 0xFFFF == 0 { context.progress(60 + 40 * r / max(table.rows.count, 1), "writing CSV") }
        }
        return out
    }
}
