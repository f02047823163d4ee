import DocFlowModel

/// Parquet files of flat columns, read by our own decoder: the Thrift footer, dictionary and data
/// pages (v1 and v2), every encoding of the format's flat types and the codecs Debian's libraries
/// serve. Nested columns and encrypted files are refused with a message naming them.
public struct ParquetReader: Reader {
    public let format = Format.parquet
    public init() {}

    /// Past this many cells a file is refused rather than held in memory.
    static let maxCells = 200_000_000

    public func read(_ bytes: [UInt8], context: ConversionContext) throws -> Payload {
        let meta = try Self.footer(bytes)
        let leaves = try ParquetLeaf.leaves(of: meta.structs(2))
        let rowGroups = meta.structs(4)
        let totalRows = Int(meta.int(3) ?? 0)
        guard totalRows >= 0, totalRows.multipliedReportingOverflow(by: leaves.count).partialValue <= Self.maxCells else {
            throw ConversionError(.tooLarge, "The Parquet file holds more cells than Doc Flow converts at once.")
        }
        var rows: [[Value]] = []
        rows.reserveCapacity(totalRows)
        var sawBinary = false
        for (g, group) in rowGroups.enumerated() {
            let groupRows = Int(group.int(3) ?? 0)
            let chunks = group.structs(1)
            guard chunks.count == leaves.count, groupRows >= 0, groupRows <= totalRows else {
                throw ParquetEncoding.corrupt("row group \(g + 1) does not match the schema")
            }
            var columns: [[Value]] = []
            for (leaf, chunk) in zip(leaves, chunks) {
                guard let cm = chunk.structure(3) else { throw ParquetEncoding.corrupt("a column chunk has no metadata") }
                var reader = ColumnChunkReader(bytes: bytes, leaf: leaf, meta: cm, rows: groupRows)
                let values = try reader.read()
                sawBinary = sawBinary || reader.sawBinary
                columns.append(values)
            }
            for r in 0..<groupRows { rows.append(columns.map { $0[r] }) }
            context.progress(5 + 50 * (g + 1) / max(rowGroups.count, 1), "reading Parquet row group \(g + 1) of \(rowGroups.count)")
        }
        guard rows.count == totalRows else { throw ParquetEncoding.corrupt("the row groups hold \(rows.count) rows, the footer says \(totalRows)") }
        if sawBinary { context.warn("Binary Parquet values that are not UTF-8 text were written as base64.") }
        var columns = leaves.map { Column(name: $0.name, type: $0.meaning.columnType) }
        columns = zip(CSVReader.uniqueNames(columns.map(\.name)), columns).map { Column(name: $0, type: $1.type) }
        var m = Metadata()
        m.properties["rows"] = .number(rows.count)
        m.properties["columns"] = .number(columns.count)
        m.properties["row_groups"] = .number(rowGroups.count)
        m.properties["schema"] = .list(columns.map { .object([("name", .text($0.name)), ("type", .text($0.type.rawValue))]) })
        if let by = meta.string(6) { m.properties["created_by"] = .text(by) }
        return .table(Table(columns: columns, rows: rows, metadata: m))
    }

    static func footer(_ bytes: [UInt8]) throws -> Thrift.Struct {
        let n = bytes.count
        if n >= 4, bytes[0..<4].elementsEqual("PARE".utf8) {
            throw ConversionError(.unsupportedConversion, "The Parquet file is encrypted; Doc Flow cannot read encrypted Parquet.")
        }
        guard n >= 12, bytes[0..<4].elementsEqual("PAR1".utf8) else {
            throw ConversionError(.malformedInput, "This is not a Parquet file (it does not start with PAR1).")
        }
        if bytes[(n - 4)...].elementsEqual("PARE".utf8) {
            throw ConversionError(.unsupportedConversion, "The Parquet file is encrypted; Doc Flow cannot read encrypted Parquet.")
        }
        guard bytes[(n - 4)...].elementsEqual("PAR1".utf8) else {
            throw ConversionError(.malformedInput, "The Parquet file is truncated (it does not end with PAR1).")
        }
        let len = Int(bytes[n - 8]) | Int(bytes[n - 7]) << 8 | Int(bytes[n - 6]) << 16 | Int(bytes[n - 5]) << 24
        guard len > 0, len <= n - 12 else { throw ParquetEncoding.corrupt("its footer length is \(len)") }
        var r = Thrift.Reader(bytes, from: n - 8 - len, to: n - 8)
        return try r.readStruct()
    }
}

/// Reads one column chunk's pages into values.
struct ColumnChunkReader {
    let bytes: [UInt8]
    let leaf: ParquetLeaf
    let meta: Thrift.Struct
    let rows: Int
    var dictionary: [Value]? = nil
    var sawBinary = false

    init(bytes: [UInt8], leaf: ParquetLeaf, meta: Thrift.Struct, rows: Int) {
        self.bytes = bytes
        self.leaf = leaf
        self.meta = meta
        self.rows = rows
    }

    mutating func read() throws -> [Value] {
        if rows == 0 { return [] }
        guard let codec = ParquetCodec(rawValue: Int(meta.int(4) ?? -1)) else {
            throw ConversionError(.unsupportedConversion, "The Parquet column “\(leaf.name)” uses an unknown compression codec.")
        }
        var start = Int(meta.int(9) ?? -1)
        if let d = meta.int(11), d > 0, Int(d) < start { start = Int(d) }
        let size = Int(meta.int(7) ?? -1)
        guard start >= 4, size >= 0, start <= bytes.count, size <= bytes.count - start else {
            throw ParquetEncoding.corrupt("column “\(leaf.name)” points outside the file")
        }
        // Pages are bounded by the file rather than the chunk's declared size: old parquet-mr
        // files understate it by the first page header, and pyarrow reads them.
        _ = size
        let end = bytes.count - 8
        var out: [Value] = []
        out.reserveCapacity(rows)
        var pos = start
        while out.count < rows {
            guard pos < end else { throw ParquetEncoding.corrupt("column “\(leaf.name)” has fewer values than rows") }
            var hr = Thrift.Reader(bytes, from: pos, to: end)
            let header = try hr.readStruct()
            let compressed = Int(header.int(3) ?? -1)
            let uncompressed = Int(header.int(2) ?? -1)
            guard compressed >= 0, compressed <= end - hr.pos else { throw ParquetEncoding.corrupt("a page of “\(leaf.name)” runs past its column") }
            let body = bytes[hr.pos..<hr.pos + compressed]
            pos = hr.pos + compressed
            switch header.int(1) {
            case 2?:
                let page = try codec.decompress(body, uncompressedSize: uncompressed)
                let n = Int(header.structure(7)?.int(1) ?? 0)
                var c = ByteCursor(page)
                dictionary = try plain(&c, count: n)
            case 0?:
                guard let h = header.structure(5) else { throw ParquetEncoding.corrupt("a data page has no header") }
                let page = try codec.decompress(body, uncompressedSize: uncompressed)
                var c = ByteCursor(page)
                let n = Int(h.int(1) ?? 0)
                var defs: [UInt64]? = nil
                if leaf.maxDefinition > 0 {
                    let len = Int(try c.le32())
                    var lc = ByteCursor(page, from: c.pos, to: c.pos + len)
                    guard len <= c.remaining else { throw ParquetEncoding.corrupt("definition levels run past their page") }
                    defs = try RLEDecoder.decode(&lc, width: 1, count: n)
                    c.pos += len
                }
                try appendValues(&out, &c, count: n, defs: defs, encoding: Int(h.int(2) ?? 0))
            case 3?:
                guard let h = header.structure(8) else { throw ParquetEncoding.corrupt("a data page has no header") }
                let n = Int(h.int(1) ?? 0)
                let defLen = Int(h.int(5) ?? 0), repLen = Int(h.int(6) ?? 0)
                guard defLen >= 0, repLen >= 0, defLen + repLen <= body.count else { throw ParquetEncoding.corrupt("page levels run past their page") }
                var defs: [UInt64]? = nil
                let levelStart = body.startIndex + repLen
                if leaf.maxDefinition > 0 {
                    var lc = ByteCursor(bytes, from: levelStart, to: levelStart + defLen)
                    defs = try RLEDecoder.decode(&lc, width: 1, count: n)
                }
                let valuesBody = body[(levelStart + defLen)...]
                let page: [UInt8]
                if h.bool(7) ?? true {
                    page = try codec.decompress(valuesBody, uncompressedSize: uncompressed - defLen - repLen)
                } else {
                    page = Array(valuesBody)
                }
                var c = ByteCursor(page)
                try appendValues(&out, &c, count: n, defs: defs, encoding: Int(h.int(4) ?? 0))
            default:
                continue  // index pages and unknown page types carry no values
            }
        }
        guard out.count == rows else { throw ParquetEncoding.corrupt("column “\(leaf.name)” has more values than rows") }
        return out
    }

    /// Decodes a data page's non-null values and spreads them over the rows its levels say.
    mutating func appendValues(_ out: inout [Value], _ c: inout ByteCursor, count: Int, defs: [UInt64]?, encoding: Int) throws {
        guard count >= 0, count <= rows - out.count else { throw ParquetEncoding.corrupt("a page of “\(leaf.name)” has more values than rows") }
        let present = defs.map { d in d.reduce(0) { $0 + ($1 == 1 ? 1 : 0) } } ?? count
        if let d = defs, d.count != count { throw ParquetEncoding.corrupt("a page of “\(leaf.name)” has too few levels") }
        let values = try decode(&c, count: present, encoding: encoding)
        guard values.count == present else { throw ParquetEncoding.corrupt("a page of “\(leaf.name)” has too few values") }
        if let d = defs {
            var k = 0
            for level in d {
                if level == 1 { out.append(values[k]); k += 1 } else { out.append(.null) }
            }
        } else {
            out.append(contentsOf: values)
        }
    }

    mutating func decode(_ c: inout ByteCursor, count: Int, encoding: Int) throws -> [Value] {
        switch encoding {
        case ParquetEncoding.plain:
            return try plain(&c, count: count)
        case ParquetEncoding.plainDictionary, ParquetEncoding.rleDictionary:
            guard let dict = dictionary else { throw ParquetEncoding.corrupt("“\(leaf.name)” uses a dictionary it does not have") }
            if count == 0 { return [] }
            let width = Int(try c.byte())
            let indices = try RLEDecoder.decode(&c, width: width, count: count)
            return try indices.map { i in
                guard i < UInt64(dict.count) else { throw ParquetEncoding.corrupt("a dictionary index of “\(leaf.name)” is out of range") }
                return dict[Int(i)]
            }
        case ParquetEncoding.rle where leaf.physical == .boolean:
            _ = try c.le32()
            return try RLEDecoder.decode(&c, width: 1, count: count).map { .bool($0 == 1) }
        case ParquetEncoding.deltaBinaryPacked where leaf.physical == .int32 || leaf.physical == .int64:
            return try DeltaBinaryPacked.decode(&c, limit: count).map { integer(leaf.physical == .int32 ? Int64(Int32(truncatingIfNeeded: $0)) : $0) }
        case ParquetEncoding.deltaLengthByteArray where leaf.physical == .byteArray:
            let lengths = try DeltaBinaryPacked.decode(&c, limit: count)
            return try lengths.map { try bytesValue(c.take(Int($0))) }
        case ParquetEncoding.deltaByteArray where leaf.physical == .byteArray || leaf.physical == .fixedLenByteArray:
            let prefixes = try DeltaBinaryPacked.decode(&c, limit: count)
            let suffixLengths = try DeltaBinaryPacked.decode(&c, limit: count)
            guard prefixes.count == suffixLengths.count else { throw ParquetEncoding.corrupt("DELTA_BYTE_ARRAY lengths disagree") }
            var previous: [UInt8] = []
            var values: [Value] = []
            for (p, s) in zip(prefixes, suffixLengths) {
                guard p >= 0, Int(p) <= previous.count else { throw ParquetEncoding.corrupt("a DELTA_BYTE_ARRAY prefix is too long") }
                var v = Array(previous[0..<Int(p)])
                v += try c.take(Int(s))
                values.append(try bytesValue(v[...]))
                previous = v
            }
            return values
        case ParquetEncoding.byteStreamSplit:
            let width: Int
            switch leaf.physical {
            case .int32, .float: width = 4
            case .int64, .double: width = 8
            case .fixedLenByteArray: width = leaf.typeLength
            default: throw ParquetEncoding.corrupt("BYTE_STREAM_SPLIT on a \(leaf.physical) column")
            }
            let raw = try c.take(width * count)
            var joined = [UInt8](repeating: 0, count: width * count)
            for k in 0..<width {
                for i in 0..<count { joined[i * width + k] = raw[raw.startIndex + k * count + i] }
            }
            var jc = ByteCursor(joined)
            return try plain(&jc, count: count)
        default:
            throw ConversionError(.unsupportedConversion, "The Parquet column “\(leaf.name)” uses encoding \(encoding), which Doc Flow does not read.")
        }
    }
}
