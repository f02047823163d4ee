import DocFlowCore
import DocFlowModel
import Foundation

/// A table handed over batch by batch: the schema and the row count are known before the first
/// batch (the readers settle types in a first pass that stores nothing), the values come in runs
/// of rows that the writer writes and drops. A conversion between tabular formats holds a few
/// batches, never the whole table.
public final class TableStream {
    public let columns: [Column]
    public let metadata: Metadata
    /// Rows the batches hold together.
    public let rowCount: Int
    private var produce: () throws -> [ColumnValues]?
    /// Rows handed out so far.
    public private(set) var rowsRead = 0

    /// `batches` returns the next run of rows (one `ColumnValues` per column, equal lengths), nil
    /// after the last.
    public init(columns: [Column], metadata: Metadata, rowCount: Int, batches: @escaping () throws -> [ColumnValues]?) {
        self.columns = columns
        self.metadata = metadata
        self.rowCount = rowCount
        self.produce = batches
    }

    /// A table already in memory, as one batch.
    public convenience init(_ table: Table) {
        var pending: [ColumnValues]? = table.data
        self.init(columns: table.columns, metadata: table.metadata, rowCount: table.rowCount) {
            defer { pending = nil }
            return pending
        }
    }

    /// The next batch as a table of the stream's columns, or nil after the last.
    public func next() throws -> Table? {
        while let data = try produce() {
            precondition(data.count == columns.count, "a batch has the wrong number of columns")
            let t = Table(columns: columns, data: data, metadata: metadata)
            if t.rowCount == 0 && rowCount > 0 { continue }
            rowsRead += t.rowCount
            return t
        }
        produce = { nil }
        return nil
    }

    /// Every remaining batch joined into one table (for writers that need the whole table).
    public func collect() throws -> Table {
        var data: [ColumnValues]? = nil
        while let batch = try next() {
            if data == nil { data = batch.data; continue }
            for c in data!.indices { data![c].append(contentsOf: batch.data[c]) }
        }
        return Table(columns: columns, data: data ?? columns.map { ColumnValues(type: $0.type) }, metadata: metadata)
    }
}

extension TableStream {
    /// A batch producer over `count` batches that parses as many at once as there are cores (up to
    /// four) and hands them out in order: `parse(k)` makes batch `k`. Memory holds one round.
    static func parallelRounds(_ count: Int, _ parse: @escaping (Int) throws -> [ColumnValues]) -> () throws -> [ColumnValues]? {
        let cores = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 4))
        var next = 0
        var ready: [[ColumnValues]] = []
        return {
            if ready.isEmpty && next < count {
                let round = Array(next..<min(next + cores, count))
                next += round.count
                ready = try Parallel.map(round.count) { k in Result { try parse(round[k]) } }.map { try $0.get() }.reversed()
            }
            return ready.popLast()
        }
    }
}

/// A reader that can hand its table over in batches, walking its input once or twice without
/// holding it (see `InputBytes.release`).
public protocol TableStreamReader: Reader {
    func stream(_ input: InputBytes, context: ConversionContext) throws -> TableStream
}

extension TableStreamReader {
    public func read(_ bytes: [UInt8], context: ConversionContext) throws -> Payload {
        .table(try stream(InputBytes(bytes), context: context).collect())
    }
}

/// A writer that writes a table batch by batch to a sink as it goes.
public protocol TableStreamWriter: Writer {
    func write(_ stream: TableStream, to sink: ByteSink, context: ConversionContext) throws
}

extension TableStreamWriter {
    public func writeParts(_ payload: Payload, context: ConversionContext) throws -> [[UInt8]] {
        guard case .table(let table) = payload else {
            throw ConversionError(.unsupportedConversion, "\(format.name) output needs a table.")
        }
        let sink = MemorySink()
        try write(TableStream(table), to: sink, context: context)
        return sink.parts
    }

    public func write(_ payload: Payload, context: ConversionContext) throws -> [UInt8] {
        let parts = try writeParts(payload, context: context)
        return parts.count == 1 ? parts[0] : Array(parts.joined())
    }
}
