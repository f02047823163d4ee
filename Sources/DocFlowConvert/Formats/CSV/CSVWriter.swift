import DocFlowCore
import DocFlowModel
import Foundation

/// RFC 4180 CSV in UTF-8: a header row, CRLF line ends, fields quoted when they hold the delimiter,
/// a quote, CR or LF (or start or end with a space). `delimiter` option as for the reader. A null
/// is an empty field, an empty string a quoted `""` (the reader reads them back apart); NaN and
/// the infinities are `NaN`, `inf` and `-inf`; binary values are base64, nested values JSON text.
public struct CSVWriter: TableStreamWriter {
    public let format = Format.csv
    public let accepts: Set<Hub> = [.table]
    public let options = [TableOptions.delimiter]
    public init() {}

    public func write(_ stream: TableStream, to sink: ByteSink, context: ConversionContext) throws {
        let delimiter = CSVReader.delimiterOption(context) ?? 0x2C
        var out: [UInt8] = []
        for (i, c) in stream.columns.enumerated() {
            if i > 0 { out.append(delimiter) }
            Array(c.name.utf8).withUnsafeBufferPointer { Self.field($0, delimiter, to: &out) }
        }
        out += [0x0D, 0x0A]
        try sink.write(out)
        while let table = try stream.next() {
            // Row ranges of the batch formatted on every core, written in order.
            let n = table.rowCount
            let parts = Parallel.map(Parallel.parts(n)) { k -> [UInt8] in
                Self.rows(table, Parallel.range(k, of: Parallel.parts(n), n), delimiter)
            }
            for p in parts { try sink.write(p) }
            context.progress(30 + 70 * stream.rowsRead / max(stream.rowCount, 1), "writing CSV")
        }
    }

    /// Rows `range` as CSV lines, the columns read through buffer pointers (`ColumnView`), or
    /// from their arrays for a table wider than `Table.maxViewColumns`.
    static func rows(_ table: Table, _ range: Range<Int>, _ delimiter: UInt8) -> [UInt8] {
        if table.data.count <= Table.maxViewColumns {
            return table.withColumnViews { rows($0, range, delimiter) }
        }
        return table.data.withUnsafeBufferPointer { rows($0, range, delimiter) }
    }

    static func rows<C: ColumnCells>(_ cols: UnsafeBufferPointer<C>, _ range: Range<Int>, _ delimiter: UInt8) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(range.count * max(8, cols.count * 10))
        for r in range {
            for c in 0..<cols.count {
                if c > 0 { out.append(delimiter) }
                let col = cols[c]
                if col.isNull(r) { continue }
                switch col.type {
                case .int64: CellText.appendInt(col.int(at: r), to: &out)
                case .double: CellText.appendDouble(col.double(at: r), to: &out)
                case .boolean: CellText.append(col.bool(at: r) ? "true" : "false", to: &out)
                case .date: CellText.appendDate(days: Int64(col.day(at: r)), to: &out)
                case .timestamp: CellText.appendTimestamp(col.int(at: r), perSecond: col.perSecond, utc: col.utc, to: &out)
                case .string, .json:
                    col.withUTF8(at: r) { u in
                        if u.isEmpty { out.append(0x22); out.append(0x22) } else { field(u, delimiter, to: &out) }
                    }
                case .binary:
                    col.withUTF8(at: r) { u in
                        if u.isEmpty { out.append(0x22); out.append(0x22) } else { Base64.append(u, to: &out) }  // never needs quotes
                    }
                }
            }
            out.append(0x0D)
            out.append(0x0A)
        }
        return out
    }

    /// One field, quoted when it holds the delimiter, a quote, CR or LF, or starts or ends with a space.
    @inline(__always)
    static func field(_ u: UnsafeBufferPointer<UInt8>, _ delimiter: UInt8, to out: inout [UInt8]) {
        var needsQuotes = u.first == 0x20 || u.last == 0x20
        if !needsQuotes {
            for b in u where b == delimiter || b == 0x22 || b == 0x0A || b == 0x0D { needsQuotes = true; break }
        }
        if needsQuotes {
            out.append(0x22)
            for b in u { if b == 0x22 { out.append(0x22) }; out.append(b) }
            out.append(0x22)
        } else {
            out.append(contentsOf: u)
        }
    }
}
