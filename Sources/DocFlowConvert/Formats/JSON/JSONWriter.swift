import DocFlowCore
import DocFlowModel

/// A table as a JSON array of objects, one per row, or as JSON Lines (one object per line); values
/// typed (numbers, booleans, null, strings; dates and timestamps as ISO 8601 strings). Nested
/// values are written as the JSON they are; binary values as base64 strings; NaN and the
/// infinities, which JSON cannot hold, as null with a warning.
public struct JSONWriter: TableStreamWriter {
    public let format: Format
    public let accepts: Set<Hub> = [.table]
    public init(format: Format = .json) { self.format = format }

    public func write(_ stream: TableStream, to sink: ByteSink, context: ConversionContext) throws {
        let keys = stream.columns.map { Array(JSONText.quoted($0.name).utf8) + [0x3A, 0x20] }
        let lines = format.id == Format.jsonLines.id
        let open = lines ? Array("{".utf8) : Array("\n  {".utf8)
        let next = lines ? Array("\n{".utf8) : Array(",\n  {".utf8)
        if !lines { try sink.write([0x5B]) }  // [
        var first = 0  // rows written before this batch
        var nonFinite = 0
        while let table = try stream.next() {
            nonFinite += Self.nonFinite(table)
            // Row ranges of the batch formatted on every core, written in order.
            let n = table.rowCount
            let parts = Parallel.parts(n)
            let formatted = Parallel.map(parts) { k -> [UInt8] in
                Self.rows(table, Parallel.range(k, of: parts, n), keys: keys, open: first == 0 ? open : next, next: next)
            }
            for p in formatted { try sink.write(p) }
            first += n
            context.progress(30 + 70 * stream.rowsRead / max(stream.rowCount, 1), "writing JSON")
        }
        try sink.write(lines ? (first > 0 ? [0x0A] : []) : Array((first == 0 ? "]\n" : "\n]\n").utf8))
        if nonFinite > 0 { context.warn("\(nonFinite) NaN or infinite value(s) became null: JSON has no NaN or infinity.") }
    }

    /// NaN and infinite values of the batch's double columns.
    static func nonFinite(_ table: Table) -> Int {
        table.data.reduce(0) { n, c in
            guard c.type == .double else { return n }
            var k = 0
            for i in 0..<c.count where !c.doubles[i].isFinite && !c.isNull(i) { k += 1 }
            return n + k
        }
    }

    /// Rows `range` as JSON objects; the first row of the table is preceded by `open`, the others
    /// by `next`. Columns read as in the CSV writer.
    static func rows(_ table: Table, _ range: Range<Int>, keys: [[UInt8]], open: [UInt8], next: [UInt8]) -> [UInt8] {
        if table.data.count <= Table.maxViewColumns {
            return table.withColumnViews { rows($0, range, keys: keys, open: open, next: next) }
        }
        return table.data.withUnsafeBufferPointer { rows($0, range, keys: keys, open: open, next: next) }
    }

    static func rows<C: ColumnCells>(_ cols: UnsafeBufferPointer<C>, _ range: Range<Int>, keys: [[UInt8]], open: [UInt8], next: [UInt8]) -> [UInt8] {
        // The keys end to end, read through one pointer: taking `keys[c]` per cell retained and
        // released that array every time (3 % of a CSV → JSON profile).
        let keyBytes = Array(keys.joined())
        var keyEnds: [Int] = []
        for k in keys { keyEnds.append((keyEnds.last ?? 0) + k.count) }
        return keyBytes.withUnsafeBufferPointer { kb in
            keyEnds.withUnsafeBufferPointer { ke in
                rows(cols, range, keys: kb, keyEnds: ke, open: open, next: next)
            }
        }
    }

    private static func rows<C: ColumnCells>(_ cols: UnsafeBufferPointer<C>, _ range: Range<Int>, keys kb: UnsafeBufferPointer<UInt8>,
                                             keyEnds ke: UnsafeBufferPointer<Int>, open: [UInt8], next: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(range.count * max(16, kb.count + cols.count * 12))
        for r in range {
            out.append(contentsOf: r == 0 ? open : next)
            for c in 0..<cols.count {
                if c > 0 { out.append(0x2C); out.append(0x20) }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: kb[(c == 0 ? 0 : ke[c - 1])..<ke[c]]))
                CellText.appendJSON(cols[c], r, to: &out)
            }
            out.append(0x7D)
        }
        return out
    }
}
