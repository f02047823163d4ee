import DocFlowCore
import DocFlowModel
import Foundation

/// Parquet output: one optional column per table column with its logical type (STRING, INT64,
/// DOUBLE, BOOLEAN, DATE, TIMESTAMP µs), dictionary encoding where it pays and PLAIN otherwise,
/// snappy by default (`compression`: snappy | zstd | gzip | none), row groups of at most
/// `row_group_rows` rows (default 131,072), pages of at most 16,384 rows, and min / max / null-count
/// statistics on every column chunk. Binary columns are BYTE_ARRAY without annotation; nested
/// columns (read from nested Parquet or JSON) are written as JSON text, with a warning.
public struct ParquetWriter: TableStreamWriter {
    public let format = Format.parquet
    public let accepts: Set<Hub> = [.table]
    public let options = [TableOptions.compression, TableOptions.rowGroupRows]
    public init() {}

    static let createdBy = "Doc Flow parquet writer 1.0"

    public func write(_ stream: TableStream, to sink: ByteSink, context: ConversionContext) throws {
        let codec = try context.options.text(TableOptions.compression).map { name -> ParquetCodec in
            guard let c = ParquetCodec.named(name) else {
                throw ConversionError(.badOptions, "compression must be one of snappy, zstd, gzip or none.")
            }
            return c
        } ?? .snappy
        let groupRows = rowGroupRows(context)
        try sink.write(Array("PAR1".utf8))
        var kinds: [ParquetColumnKind]? = nil
        var groups: [RowGroupMeta] = []
        // Each batch as row groups of at most `groupRows` rows, written as soon as encoded.
        while let table = try stream.next() {
            let k = kinds ?? table.data.map(ParquetColumnKind.init)
            kinds = k
            var start = 0
            let total = table.rowCount
            repeat {
                let end = min(start + groupRows, total)
                // Columns are independent: encode and compress them on every core, each into its
                // own buffer, then lay them out in order.
                let encoded = Parallel.map(k.count) { c -> ([UInt8], ChunkMeta) in
                    var buf: [UInt8] = []
                    let w = ColumnChunkWriter(kind: k[c], codec: codec, name: table.columns[c].name)
                    let meta = w.write(.init(values: table.data[c], rows: start..<end), to: &buf)
                    return (buf, meta)
                }
                var chunks: [ChunkMeta] = []
                for (buf, var meta) in encoded {
                    let base = Int64(sink.count)
                    meta.dataPageOffset += base
                    meta.dictionaryPageOffset = meta.dictionaryPageOffset.map { $0 + base }
                    try sink.write(buf)
                    chunks.append(meta)
                }
                if end > start || groups.isEmpty && total == 0 && stream.rowCount == 0 {
                    groups.append(RowGroupMeta(rows: end - start, chunks: chunks))
                }
                start = end
            } while start < total
            context.progress(30 + 68 * stream.rowsRead / max(stream.rowCount, 1), "writing Parquet")
        }
        let columnKinds = kinds ?? stream.columns.map { ParquetColumnKind(ColumnValues(type: $0.type)) }
        let footer = Self.footer(columns: stream.columns, rows: stream.rowsRead, kinds: columnKinds, groups: groups)
        let n = UInt32(footer.count)
        try sink.write(footer + [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)] + Array("PAR1".utf8))
        let nested = zip(stream.columns, columnKinds).filter { $0.1 == .json }.map { "“\($0.0.name)”" }
        if !nested.isEmpty {
            context.warn("Nested column(s) \(nested.joined(separator: ", ")) were written as JSON text (Parquet's JSON type), not as nested Parquet columns.")
        }
        context.report("row_groups", .number(groups.count))
        context.report("compression", .text(codec.name))
    }

    private func rowGroupRows(_ context: ConversionContext) -> Int {
        context.options.int(TableOptions.rowGroupRows) ?? 131_072
    }

    static func footer(columns: [Column], rows: Int, kinds: [ParquetColumnKind], groups: [RowGroupMeta]) -> [UInt8] {
        var w = Thrift.Writer()
        w.i32(PQ.FileMetaData.version, 2)
        let schema: [(String, ParquetColumnKind?)] = [("schema", nil)] + zip(columns.map(\.name), kinds.map { Optional($0) })
        w.structList(PQ.FileMetaData.schema, schema) { w, item in
            guard let kind = item.1 else {
                w.string(PQ.SchemaElement.name, item.0)
                w.i32(PQ.SchemaElement.numChildren, columns.count)
                return
            }
            w.i32(PQ.SchemaElement.type, kind.physical.rawValue)
            w.i32(PQ.SchemaElement.repetitionType, Int(PQ.Repetition.optional))
            w.string(PQ.SchemaElement.name, item.0)
            if let converted = kind.convertedType { w.i32(PQ.SchemaElement.convertedType, converted) }
            if let logical = kind.writeLogical { w.structure(PQ.SchemaElement.logicalType, logical) }
        }
        w.int(PQ.FileMetaData.numRows, Int64(rows))
        w.structList(PQ.FileMetaData.rowGroups, groups) { w, g in
            w.structList(PQ.RowGroup.columns, g.chunks) { w, chunk in
                w.int(PQ.ColumnChunk.fileOffset, chunk.firstPageOffset)
                w.structure(PQ.ColumnChunk.metaData) { w in chunk.write(&w) }
            }
            w.int(PQ.RowGroup.totalByteSize, g.chunks.reduce(0) { $0 + $1.uncompressedSize })
            w.int(PQ.RowGroup.numRows, Int64(g.rows))
        }
        w.string(PQ.FileMetaData.createdBy, createdBy)
        // Column orders: without them readers treat min_value / max_value as of unknown order and
        // ignore the statistics.
        w.structList(PQ.FileMetaData.columnOrders, kinds) { w, _ in w.structure(PQ.ColumnOrder.typeDefinedOrder) { _ in } }
        return w.finish()
    }
}

struct RowGroupMeta {
    var rows: Int
    var chunks: [ChunkMeta]
}

/// A column chunk's metadata, written into the footer.
struct ChunkMeta {
    var kind: ParquetColumnKind
    var name: String
    var codec: ParquetCodec
    var values: Int64
    var nulls: Int64
    var uncompressedSize: Int64
    var compressedSize: Int64
    var dataPageOffset: Int64
    var dictionaryPageOffset: Int64?
    var min: [UInt8]?
    var max: [UInt8]?

    var firstPageOffset: Int64 { dictionaryPageOffset ?? dataPageOffset }

    func write(_ w: inout Thrift.Writer) {
        w.i32(PQ.ColumnMetaData.type, kind.physical.rawValue)
        w.i32List(PQ.ColumnMetaData.encodings, dictionaryPageOffset != nil ? [ParquetEncoding.plain, ParquetEncoding.rle, ParquetEncoding.rleDictionary]
                                                  : [ParquetEncoding.plain, ParquetEncoding.rle])
        w.stringList(PQ.ColumnMetaData.pathInSchema, [name])
        w.i32(PQ.ColumnMetaData.codec, codec.rawValue)
        w.int(PQ.ColumnMetaData.numValues, values)
        w.int(PQ.ColumnMetaData.totalUncompressedSize, uncompressedSize)
        w.int(PQ.ColumnMetaData.totalCompressedSize, compressedSize)
        w.int(PQ.ColumnMetaData.dataPageOffset, dataPageOffset)
        if let d = dictionaryPageOffset { w.int(PQ.ColumnMetaData.dictionaryPageOffset, d) }
        w.structure(PQ.ColumnMetaData.statistics) { w in
            w.int(PQ.Statistics.nullCount, nulls)
            if let mx = max, let mn = min {
                w.binary(PQ.Statistics.maxValue, mx)
                w.binary(PQ.Statistics.minValue, mn)
            }
        }
    }
}
