import DocFlowCore
import DocFlowModel

/// Parquet files, read by our own decoder: the Thrift footer, dictionary and data pages (v1 and
/// v2), every encoding of the format's types and the codecs Debian's libraries serve. Flat columns
/// become typed columns; nested ones (lists, maps, structs) one JSON column each, rebuilt from
/// their levels. Encrypted files are refused with a message saying so.
public struct ParquetReader: TableStreamReader {
    public let format = Format.parquet
    public init() {}

    /// Past this many cells a file is refused rather than held in memory.
    static let maxCells = 200_000_000

    /// Row group by row group: each group's bytes are copied out of the mapped file, decoded
    /// column by column on every core, and handed back before the next group.
    public func stream(_ input: InputBytes, context: ConversionContext) throws -> TableStream {
        let (meta, footerStart) = try Self.footer(input.buffer)
        if meta.structure(PQ.FileMetaData.encryptionAlgorithm) != nil {
            throw ConversionError(.unsupportedConversion, "The Parquet file is encrypted (its columns are, its footer is plaintext); Doc Flow cannot read encrypted Parquet.")
        }
        var (fields, leaves) = try ParquetLeaf.schema(of: meta.structs(PQ.FileMetaData.schema))
        let rowGroups = meta.structs(PQ.FileMetaData.rowGroups)
        // Some writers (old parquet-mr) leave the footer's row count at 0: the groups' sum holds.
        var totalRows = Int(meta.int(PQ.FileMetaData.numRows) ?? 0)
        let groupSum = rowGroups.reduce(0) { $0.addingReportingOverflow(Int(max(0, $1.int(PQ.RowGroup.numRows) ?? 0))).partialValue }
        if totalRows == 0 { totalRows = groupSum }
        guard totalRows >= 0, totalRows.multipliedReportingOverflow(by: leaves.count).partialValue <= Self.maxCells else {
            throw ConversionError(.tooLarge, "The Parquet file holds more cells than Doc Flow converts at once.")
        }
        // Each group's span: from its first page to the next group's (or the footer), or to the
        // end its chunks declare if that is further (chunks laid out between another group's).
        // Spans that overlap (a forged or unusual layout) would be copied many times over: then
        // the file is read whole once instead.
        let bounds = rowGroups.map { g -> (lo: Int, hi: Int) in
            var lo = Int.max, hi = 0
            for c in g.structs(PQ.RowGroup.columns) {
                guard let cm = c.structure(PQ.ColumnChunk.metaData) else { continue }
                var start = Int(cm.int(PQ.ColumnMetaData.dataPageOffset) ?? -1)
                if let d = cm.int(PQ.ColumnMetaData.dictionaryPageOffset), d > 0, Int(d) < start { start = Int(d) }
                let size = Int(cm.int(PQ.ColumnMetaData.totalCompressedSize) ?? 0)
                lo = min(lo, start)
                hi = max(hi, start.addingReportingOverflow(max(size, 0)).partialValue)
            }
            let l = min(max(lo == .max ? 4 : lo, 4), footerStart)
            return (l, min(max(hi, l), footerStart))
        }
        let sorted = Set(bounds.map(\.lo)).sorted()
        var following: [Int: Int] = [:]
        for (i, lo) in sorted.enumerated() { following[lo] = i + 1 < sorted.count ? sorted[i + 1] : footerStart }
        var spans = bounds.map { b in b.lo..<max(b.hi, following[b.lo]!) }
        var whole: [UInt8]? = nil
        if spans.reduce(0, { $0 + $1.count }) > footerStart {
            whole = input.array
            spans = spans.map { _ in 0..<input.count }
        }
        // Binary columns without annotation: text or bytes, settled on the first row group.
        if !rowGroups.isEmpty, leaves.contains(where: { $0.meaning == .binary }) {
            let first = whole ?? Array(input.buffer[spans[0]])
            for (l, leaf) in leaves.enumerated() where leaf.meaning == .binary {
                leaves[l].textual = try Self.isText(leaf, l, rowGroups[0], bytes: first, base: spans[0].lowerBound,
                                                    end: whole == nil ? first.count : input.count - 8)
            }
        }
        let names = ColumnNames.unique(fields.map(\.name))
        let columns = zip(names, fields).map { name, f in
            Column(name: name, type: f.isFlat ? leaves[f.leaves[0]].columnType : .json)
        }
        var m = Metadata()
        m.properties["row_groups"] = .number(rowGroups.count)
        if let by = meta.string(PQ.FileMetaData.createdBy) { m.properties["created_by"] = .text(by) }
        // Which leaves are whole flat columns (one pass: a file may have 100,000 columns).
        var flat = [Bool](repeating: false, count: leaves.count)
        for f in fields where f.isFlat { flat[f.leaves[0]] = true }
        var g = 0, seen = 0
        var warnings = Set<String>()
        return TableStream(columns: columns, metadata: m, rowCount: totalRows) {
            guard g < rowGroups.count else {
                guard seen == totalRows else { throw ParquetEncoding.corrupt("the row groups hold \(seen) rows, the footer says \(totalRows)") }
                for w in warnings.sorted() { context.warn(w) }
                warnings = []
                return nil
            }
            let group = rowGroups[g]
            let groupRows = Int(group.int(PQ.RowGroup.numRows) ?? 0)
            let chunks = group.structs(PQ.RowGroup.columns)
            guard chunks.count == leaves.count, groupRows >= 0, groupRows <= totalRows - seen else {
                throw ParquetEncoding.corrupt("row group \(g + 1) does not match the schema")
            }
            let span = spans[g]
            let bytes = whole ?? Array(input.buffer[span])
            let end = whole == nil ? bytes.count : bytes.count - 8
            // Column chunks are independent: decode them on every core.
            let decoded = Parallel.map(leaves.count) { c -> Result<(Leaf, Set<String>), Error> in
                Result {
                    guard let cm = chunks[c].structure(PQ.ColumnChunk.metaData) else {
                        throw chunks[c].structure(PQ.ColumnChunk.cryptoMetadata) != nil
                            ? ConversionError(.unsupportedConversion, "The Parquet file is encrypted; Doc Flow cannot read encrypted Parquet.")
                            : ParquetEncoding.corrupt("a column chunk has no metadata")
                    }
                    var reader = ColumnChunkReader(bytes: bytes, base: span.lowerBound, end: end, leaf: leaves[c], meta: cm, rows: groupRows)
                    if flat[c] {
                        var part = ColumnChunkReader.newColumn(leaves[c], capacity: min(groupRows, 1 << 20))
                        try reader.read(into: &part)
                        return (.flat(part), reader.warnings)
                    }
                    return (.leveled(try reader.readLevels()), reader.warnings)
                }
            }
            var parts: [Int: LeveledColumn] = [:]
            var flatParts: [Int: ColumnValues] = [:]
            for (c, result) in decoded.enumerated() {
                let (part, w) = try result.get()
                switch part {
                case .flat(let v): flatParts[c] = v
                case .leveled(let v): parts[c] = v
                }
                warnings.formUnion(w)
            }
            var data: [ColumnValues] = []
            for f in fields {
                if f.isFlat { data.append(flatParts[f.leaves[0]]!); continue }
                data.append(try NestedAssembler(field: f, columns: parts).assemble(rows: groupRows, name: f.name))
            }
            if whole == nil { input.release(span) }
            g += 1
            seen += groupRows
            context.progress(5 + 25 * g / max(rowGroups.count, 1), "reading Parquet row group \(g) of \(rowGroups.count)")
            return data
        }
    }

    /// A leaf's decoded chunk: flat values, or levels and values of a nested leaf.
    enum Leaf { case flat(ColumnValues), leveled(LeveledColumn) }

    /// Whether every value of an unannotated BYTE_ARRAY leaf in row group `group` is text
    /// (UTF-8 without control characters other than tab and line ends): legacy writers' strings.
    static func isText(_ leaf: ParquetLeaf, _ index: Int, _ group: Thrift.Struct, bytes: [UInt8], base: Int, end: Int) throws -> Bool {
        let chunks = group.structs(PQ.RowGroup.columns)
        guard index < chunks.count, let cm = chunks[index].structure(PQ.ColumnChunk.metaData) else { return true }
        var probe = leaf
        probe.textual = false  // read the raw bytes
        var reader = ColumnChunkReader(bytes: bytes, base: base, end: end, leaf: probe, meta: cm, rows: Int(group.int(PQ.RowGroup.numRows) ?? 0))
        let values: ColumnValues
        if leaf.maxRepetition == 0 && leaf.maxDefinition <= 1 {
            var v = reader.newColumn(capacity: 0)
            try reader.read(into: &v)
            values = v
        } else {
            values = try reader.readLevels().values
        }
        for i in 0..<values.count where !values.isNull(i) {
            let b = values.utf8(at: i)
            if b.contains(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }) { return false }
            if !b.allSatisfy({ $0 < 0x80 }) && String(validating: b, as: UTF8.self) == nil { return false }
        }
        return true
    }

    /// The footer and where it starts.
    static func footer(_ bytes: UnsafeBufferPointer<UInt8>) throws -> (Thrift.Struct, Int) {
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
        var r = Thrift.Reader(Array(bytes[(n - 8 - len)..<(n - 8)]))
        return (try r.readStruct(), n - 8 - len)
    }
}

/// Reads one column chunk's pages into values.
struct ColumnChunkReader {
    /// The bytes holding the chunk: the whole file, or a span of it starting at file offset `base`;
    /// pages may run up to `end`.
    let bytes: [UInt8]
    let base: Int
    let end: Int
    let leaf: ParquetLeaf
    let meta: Thrift.Struct
    let rows: Int
    var dictionary: ColumnValues? = nil
    /// What the reader could not carry over exactly, said once per file.
    var warnings = Set<String>()

    init(bytes: [UInt8], base: Int, end: Int, leaf: ParquetLeaf, meta: Thrift.Struct, rows: Int) {
        self.bytes = bytes
        self.base = base
        self.end = end
        self.leaf = leaf
        self.meta = meta
        self.rows = rows
    }

    static func newColumn(_ leaf: ParquetLeaf, capacity: Int) -> ColumnValues {
        // Counts come from headers a forged file controls: reserve a bounded amount, grow past it.
        var v = ColumnValues(type: leaf.columnType, capacity: min(max(capacity, 0), 1 << 20))
        switch leaf.meaning {
        case .timestamp(let per, let utc): v.perSecond = per; v.utc = utc
        default: break
        }
        return v
    }

    func newColumn(capacity: Int) -> ColumnValues { Self.newColumn(leaf, capacity: capacity) }

    mutating func read(into out: inout ColumnValues) throws {
        let target = out.count + rows
        if rows == 0 { return }
        let (codec, first) = try chunkStart()
        // Pages are bounded by the span rather than the chunk's declared size: old parquet-mr
        // files understate it by the first page header, and pyarrow reads them.
        var pos = first
        while out.count < target {
            guard pos < end else { throw ParquetEncoding.corrupt("column “\(leaf.name)” has fewer values than rows") }
            let (header, body, uncompressed) = try page(at: &pos)
            switch header.int(PQ.PageHeader.type) {
            case PQ.PageType.dictionaryPage?:
                try readDictionary(header, body, uncompressed, codec)
            case PQ.PageType.dataPage?:
                guard let h = header.structure(PQ.PageHeader.dataPageHeader) else { throw ParquetEncoding.corrupt("a data page has no header") }
                let page = try codec.decompress(body, uncompressedSize: uncompressed)
                var c = ByteCursor(page)
                let n = Int(h.int(PQ.DataPageHeader.numValues) ?? 0)
                try checkValueCount(n, out: out, target: target)
                var defs: [UInt64]? = nil
                if leaf.maxDefinition > 0 {
                    let len = Int(try c.le32())
                    var lc = ByteCursor(page, from: c.pos, to: c.pos + len)
                    guard len <= c.remaining else { throw ParquetEncoding.corrupt("definition levels run past their page") }
                    defs = try RLEDecoder.decode(&lc, width: 1, count: n)
                    c.pos += len
                }
                try appendValues(&out, target: target, &c, count: n, defs: defs, encoding: Int(h.int(PQ.DataPageHeader.encoding) ?? 0))
            case PQ.PageType.dataPageV2?:
                guard let h = header.structure(PQ.PageHeader.dataPageHeaderV2) else { throw ParquetEncoding.corrupt("a data page has no header") }
                let n = Int(h.int(PQ.DataPageHeaderV2.numValues) ?? 0)
                try checkValueCount(n, out: out, target: target)
                let defLen = Int(h.int(PQ.DataPageHeaderV2.definitionLevelsByteLength) ?? 0), repLen = Int(h.int(PQ.DataPageHeaderV2.repetitionLevelsByteLength) ?? 0)
                guard defLen >= 0, repLen >= 0, defLen + repLen <= body.count else { throw ParquetEncoding.corrupt("page levels run past their page") }
                var defs: [UInt64]? = nil
                let levelStart = body.startIndex + repLen
                if leaf.maxDefinition > 0 {
                    var lc = ByteCursor(bytes, from: levelStart, to: levelStart + defLen)
                    defs = try RLEDecoder.decode(&lc, width: 1, count: n)
                }
                let valuesBody = body[(levelStart + defLen)...]
                let page: [UInt8]
                // A page of nulls only may have an empty values section that was never compressed.
                let size = uncompressed - defLen - repLen
                if (h.bool(PQ.DataPageHeaderV2.isCompressed) ?? true) && !(size == 0 && valuesBody.isEmpty) {
                    page = try codec.decompress(valuesBody, uncompressedSize: size)
                } else {
                    page = Array(valuesBody)
                }
                var c = ByteCursor(page)
                try appendValues(&out, target: target, &c, count: n, defs: defs, encoding: Int(h.int(PQ.DataPageHeaderV2.encoding) ?? 0))
            default:
                continue  // index pages and unknown page types carry no values
            }
        }
        guard out.count == target else { throw ParquetEncoding.corrupt("column “\(leaf.name)” has more values than rows") }
    }

    /// The chunk's codec and where its first page (the dictionary's, if any) starts in `bytes`.
    func chunkStart() throws -> (ParquetCodec, Int) {
        guard let codec = ParquetCodec(rawValue: Int(meta.int(PQ.ColumnMetaData.codec) ?? -1)) else {
            throw ConversionError(.unsupportedConversion, "The Parquet column “\(leaf.name)” uses an unknown compression codec.")
        }
        var start = Int(meta.int(PQ.ColumnMetaData.dataPageOffset) ?? -1)
        if let d = meta.int(PQ.ColumnMetaData.dictionaryPageOffset), d > 0, Int(d) < start { start = Int(d) }
        let size = Int(meta.int(PQ.ColumnMetaData.totalCompressedSize) ?? -1)
        guard start >= 4, size >= 0, start - base >= 0, start - base <= end else {
            throw ParquetEncoding.corrupt("column “\(leaf.name)” points outside the file")
        }
        return (codec, start - base)
    }

    /// The page at `pos`: its header, its (still compressed) body and its uncompressed size;
    /// `pos` moves past it.
    func page(at pos: inout Int) throws -> (Thrift.Struct, ArraySlice<UInt8>, Int) {
        var hr = Thrift.Reader(bytes, from: pos, to: end)
        let header = try hr.readStruct()
        let compressed = Int(header.int(PQ.PageHeader.compressedPageSize) ?? -1)
        let uncompressed = Int(header.int(PQ.PageHeader.uncompressedPageSize) ?? -1)
        guard compressed >= 0, compressed <= end - hr.pos else { throw ParquetEncoding.corrupt("a page of “\(leaf.name)” runs past its column") }
        pos = hr.pos + compressed
        return (header, bytes[hr.pos..<hr.pos + compressed], uncompressed)
    }

    mutating func readDictionary(_ header: Thrift.Struct, _ body: ArraySlice<UInt8>, _ uncompressed: Int, _ codec: ParquetCodec) throws {
        let page = try codec.decompress(body, uncompressedSize: uncompressed)
        let n = Int(header.structure(PQ.PageHeader.dictionaryPageHeader)?.int(PQ.DictionaryPageHeader.numValues) ?? 0)
        var c = ByteCursor(page)
        dictionary = try plain(&c, count: n)
    }

    /// A page may not claim more values than its row group has rows left: its levels are decoded
    /// before anything else, and a forged count would have them fill memory.
    func checkValueCount(_ n: Int, out: ColumnValues, target: Int) throws {
        guard n >= 0, n <= target - out.count else {
            throw ParquetEncoding.corrupt("a page of “\(leaf.name)” claims more values than its row group has rows")
        }
    }

    /// Decodes a data page's non-null values and spreads them over the rows its levels say.
    mutating func appendValues(_ out: inout ColumnValues, target: Int, _ c: inout ByteCursor, count: Int, defs: [UInt64]?,
                               encoding: Int) throws {
        guard count >= 0, count <= target - out.count else { throw ParquetEncoding.corrupt("a page of “\(leaf.name)” has more values than rows") }
        let present = defs.map { d in d.reduce(0) { $0 + ($1 == 1 ? 1 : 0) } } ?? count
        if let d = defs, d.count != count { throw ParquetEncoding.corrupt("a page of “\(leaf.name)” has too few levels") }
        let values = try decode(&c, count: present, encoding: encoding)
        guard values.count == present else { throw ParquetEncoding.corrupt("a page of “\(leaf.name)” has too few values") }
        if let d = defs {
            var k = 0
            for level in d {
                if level == 1 { out.append(from: values, at: k); k += 1 } else { out.appendNull() }
            }
        } else {
            out.append(contentsOf: values)
        }
    }

    mutating func decode(_ c: inout ByteCursor, count: Int, encoding: Int) throws -> ColumnValues {
        switch encoding {
        case ParquetEncoding.plain:
            return try plain(&c, count: count)
        case ParquetEncoding.plainDictionary, ParquetEncoding.rleDictionary:
            guard let dict = dictionary else { throw ParquetEncoding.corrupt("“\(leaf.name)” uses a dictionary it does not have") }
            var out = newColumn(capacity: count)
            if count == 0 { return out }
            let width = Int(try c.byte())
            let indices = try RLEDecoder.decode(&c, width: width, count: count)
            for i in indices {
                guard i < UInt64(dict.count) else { throw ParquetEncoding.corrupt("a dictionary index of “\(leaf.name)” is out of range") }
                out.append(from: dict, at: Int(i))
            }
            return out
        case ParquetEncoding.rle where leaf.physical == .boolean:
            _ = try c.le32()
            var out = newColumn(capacity: count)
            for b in try RLEDecoder.decode(&c, width: 1, count: count) { out.append(bool: b == 1) }
            return out
        case ParquetEncoding.deltaBinaryPacked where leaf.physical == .int32 || leaf.physical == .int64:
            var out = newColumn(capacity: count)
            for v in try DeltaBinaryPacked.decode(&c, limit: count) {
                appendInteger(leaf.physical == .int32 ? Int64(Int32(truncatingIfNeeded: v)) : v, to: &out)
            }
            return out
        case ParquetEncoding.deltaLengthByteArray where leaf.physical == .byteArray:
            var out = newColumn(capacity: count)
            for n in try DeltaBinaryPacked.decode(&c, limit: count) { try appendBytes(c.take(Int(n)), to: &out) }
            return out
        case ParquetEncoding.deltaByteArray where leaf.physical == .byteArray || leaf.physical == .fixedLenByteArray:
            let prefixes = try DeltaBinaryPacked.decode(&c, limit: count)
            let suffixLengths = try DeltaBinaryPacked.decode(&c, limit: count)
            guard prefixes.count == suffixLengths.count else { throw ParquetEncoding.corrupt("DELTA_BYTE_ARRAY lengths disagree") }
            var previous: [UInt8] = []
            var values = newColumn(capacity: count)
            for (p, s) in zip(prefixes, suffixLengths) {
                guard p >= 0, Int(p) <= previous.count else { throw ParquetEncoding.corrupt("a DELTA_BYTE_ARRAY prefix is too long") }
                var v = Array(previous[0..<Int(p)])
                v += try c.take(Int(s))
                try appendBytes(v[...], to: &values)
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
