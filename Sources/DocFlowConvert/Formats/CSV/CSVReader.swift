import DocFlowCore
import DocFlowModel
import Foundation

/// RFC 4180 CSV: quoted fields with embedded delimiters, quotes and newlines; CRLF or LF; the
/// delimiter detected among `,` `;` TAB `|` unless `options.delimiter` says; the first row is the
/// header unless `options.header` is false; ragged rows are padded with a warning. Column types
/// are inferred unless `options.infer_types` is false (then every value stays text). An unquoted
/// empty field (and a field missing from a short row) is null, as DuckDB, pandas and pyarrow read
/// it; a quoted `""` is an empty string in a text column. `options.keep_empty_strings` makes every
/// empty field of a text column an empty string.
public struct CSVReader: TableStreamReader {
    public let format = Format.csv
    public let options = [TableOptions.delimiter, TableOptions.header, TableOptions.inferTypes, TableOptions.keepEmptyStrings]
    public init() {}

    /// Records per batch handed to the writer (two pass-1 checkpoints).
    static let batchCheckpoints = 2

    public func stream(_ input: InputBytes, context: ConversionContext) throws -> TableStream {
        // UTF-8 is read where it lies (a mapped file, handed back page by page as the passes go
        // by); other encodings are decoded into memory first.
        let source: InputBytes, skip: Int
        if let bom = TextDecoding.plainUTF8(input) {
            (source, skip) = (input, bom)
        } else {
            (source, skip) = (InputBytes(try TextDecoding.utf8(input.array, context: context, what: "CSV")), 0)
        }
        let buf = UnsafeBufferPointer(rebasing: source.buffer[skip...])
        if !buf.contains(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) {
            throw ConversionError(.malformedInput, "The CSV file is empty.")
        }
        let delimiter = Self.delimiterOption(context) ?? Self.detectDelimiter(buf)
        // The first row is the header unless `header` says otherwise, or (when not said) it fits
        // the types of the data below it: `1,2` over numbers is data, `id,price` is a header.
        let headerOption = context.options.bool(TableOptions.header)
        let hasHeader = headerOption ?? true
        let infer = context.options.bool(TableOptions.inferTypes) ?? true
        let keepEmpty = context.options.bool(TableOptions.keepEmptyStrings) ?? false
        // Pass 1: the header, the width and each column's type, storing nothing.
        var t = CSVTokenizer(buf, delimiter: delimiter)
        var header: [String] = []
        var width = 0
        if hasHeader, try t.next() {
            header = (0..<t.fields.count).map { i in t.withField(i) { String(decoding: $0, as: UTF8.self) } }
            width = header.count
        }
        // Pass 1 on both cores: the second half starts after a line end past the middle, on
        // the guess that it is not inside a quoted field; the guess holds when the first half
        // ends a record exactly there, else the first half simply reads on to the end.
        let start = (t.pos, t.line)
        var split = buf.count  // past 4 MB: the first line end past the middle
        if buf.count - start.0 > 4 << 20 {
            split = start.0 + (buf.count - start.0) / 2
            while split < buf.count && buf[split - 1] != 0x0A { split += 1 }
        }
        let release = { (r: Range<Int>) in source.release((r.lowerBound + skip)..<(r.upperBound + skip)) }
        let halves = split < buf.count
            ? Parallel.map(2) { k in Result { try Self.scan(buf, delimiter, from: k == 0 ? start : (split, 1), to: k == 0 ? split : buf.count, infer: infer,
                                                            context: k == 0 ? context : nil, release: release) } }
            : [Result { try Self.scan(buf, delimiter, from: start, to: buf.count, infer: infer, context: context, release: release) }]
        var scan = try halves[0].get()
        if halves.count == 2 {
            if scan.end == split {
                scan.join(try halves[1].get())
            } else {  // the middle was inside a quoted field
                scan.join(try Self.scan(buf, delimiter, from: (scan.end, 1), to: buf.count, infer: infer, context: context, release: release))
            }
        }
        var candidates = scan.candidates
        let checkpoints = scan.checkpoints, records = scan.records
        width = max(width, scan.widths.keys.max() ?? 0)
        let short = scan.widths.filter { $0.key < width }.values.reduce(0, +)
        if short > 0 { context.warn("\(short) row(s) had fewer fields than the widest row and were padded with empty values.") }
        candidates += Array(repeating: [], count: max(0, width - candidates.count))
        let saw = scan.saw + Array(repeating: false, count: max(0, width - scan.saw.count))
        let types = (0..<width).map { candidates[$0].type(sawValue: saw[$0]) }
        let zoned = (0..<width).map { candidates[$0].contains(.zoned) }
        var headerIsData = false
        if headerOption == nil, hasHeader, infer {
            headerIsData = header.indices.contains { i in
                var cell = header[i]
                return types[i] != .string && !cell.isEmpty && cell.withUTF8 { TypeInference.fits($0, types[i]) }
            }
        }
        var names = hasHeader && !headerIsData ? header + Array(repeating: "", count: max(0, width - header.count))
                                               : (1...max(width, 1)).map { "column_\($0)" }
        names = ColumnNames.unique(Array(names.prefix(max(width, 1))))
        context.progress(30, "reading CSV values")

        // Pass 2: the values, straight into typed columns, a batch of records (from pass 1's
        // checkpoints) on each core, handed over in order; each batch's bytes are handed back.
        func empty(_ capacity: Int) -> [ColumnValues] {
            (0..<width).map { i in
                var c = ColumnValues(type: types[i], capacity: capacity)
                c.utc = zoned[i]
                return c
            }
        }
        func parse(_ first: Int) throws -> [ColumnValues] {
            let last = min(first + Self.batchCheckpoints, checkpoints.count)
            let count = (last < checkpoints.count ? checkpoints[last].record : records) - checkpoints[first].record
            var data = empty(count)
            var t = CSVTokenizer(buf, delimiter: delimiter)
            (t.pos, t.line) = (checkpoints[first].pos, checkpoints[first].line)
            var n = 0
            while n < count, try t.next() {
                n += 1
                let fields = t.fields.count
                for i in 0..<width {
                    if i >= fields { if keepEmpty && types[i] == .string { data[i].append(utf8: EmptyCollection()) } else { data[i].appendNull() }; continue }
                    let quoted = keepEmpty || t.isQuoted(i)
                    t.withField(i) { f in Self.append(f, quoted: quoted, to: &data[i]) }
                }
            }
            release(checkpoints[first].pos..<t.pos)
            return data
        }
        let batches = TableStream.parallelRounds((checkpoints.count + Self.batchCheckpoints - 1) / Self.batchCheckpoints) { k in
            try parse(k * Self.batchCheckpoints)
        }
        var pendingHeader = headerIsData
        let total = records + (headerIsData ? 1 : 0)
        var meta = Metadata()
        meta.properties["delimiter"] = .text(String(UnicodeScalar(delimiter)))
        return TableStream(columns: zip(names, types).map { Column(name: $0, type: $1) }, metadata: meta, rowCount: total) {
            guard pendingHeader else { return try batches() }
            // A header row that is data: the first row of the first batch.
            pendingHeader = false
            var data = empty(1)
            for i in 0..<width {
                var cell = i < header.count ? header[i] : ""
                cell.withUTF8 { Self.append($0, quoted: keepEmpty, to: &data[i]) }
            }
            if let first = try batches() { for i in 0..<width { data[i].append(contentsOf: first[i]) } }
            return data
        }
    }

    /// What pass 1 learns from the records between two byte offsets.
    struct Scan {
        var records = 0
        /// Where every 65,536th record starts (and its index), so pass 2 can split the work.
        var checkpoints: [(pos: Int, line: Int, record: Int)] = []
        /// How many records had each field count.
        var widths: [Int: Int] = [:]
        var candidates: [TypeInference.Candidates] = []
        var saw: [Bool] = []
        var end = 0, endLine = 1

        /// The scan of the records that follow these.
        mutating func join(_ o: Scan) {
            checkpoints += o.checkpoints.map { ($0.pos, $0.line + endLine - 1, $0.record + records) }
            records += o.records
            for (w, n) in o.widths { widths[w, default: 0] += n }
            for i in 0..<max(candidates.count, o.candidates.count) {
                if i >= candidates.count { candidates.append(o.candidates[i]); saw.append(o.saw[i]) }
                else if i < o.candidates.count { candidates[i] = candidates[i].joined(o.candidates[i]); saw[i] = saw[i] || o.saw[i] }
            }
            end = o.end
            endLine += o.endLine - 1
        }
    }

    /// Pass 1 over the records starting at `from` up to the first record boundary at or past `to`:
    /// the field counts and each column's type, storing nothing.
    static func scan(_ buf: UnsafeBufferPointer<UInt8>, _ delimiter: UInt8, from: (Int, Int), to stop: Int, infer: Bool,
                     context: ConversionContext?, release: (Range<Int>) -> Void) throws -> Scan {
        var t = CSVTokenizer(buf, delimiter: delimiter)
        (t.pos, t.line) = from
        var s = Scan()
        s.checkpoints.append((t.pos, t.line, 0))
        while t.pos < stop, try t.next() {
            s.records += 1
            if s.records & 0xFFFF == 0 {
                release((s.checkpoints.last?.pos ?? from.0)..<t.pos)
                s.checkpoints.append((t.pos, t.line, s.records))
            }
            let n = t.fields.count
            s.widths[n, default: 0] += 1
            if s.candidates.count < n {
                s.candidates += Array(repeating: infer ? .all : [], count: n - s.candidates.count)
                s.saw += Array(repeating: false, count: n - s.saw.count)
            }
            for i in 0..<n where !s.candidates[i].isEmpty {
                t.withField(i) { f in
                    if f.count > 0 { s.saw[i] = true; s.candidates[i].narrow(f) }
                }
            }
            if s.records & 0x3FFFF == 0, let context { context.progress(5 + min(25, 25 * t.pos / max(buf.count, 1)), "reading CSV") }
        }
        // A checkpoint at the very end holds no record.
        if let last = s.checkpoints.last, last.record == s.records, s.checkpoints.count > 1 { s.checkpoints.removeLast() }
        (s.end, s.endLine) = (t.pos, t.line)
        release((s.checkpoints.last?.pos ?? from.0)..<t.pos)
        return s
    }

    /// A cell into its column; pass 1 made sure it fits the column's type. An empty cell is null,
    /// or an empty string in a text column when it was `quoted` (or empty strings are kept).
    @inline(__always)
    static func append(_ f: UnsafeBufferPointer<UInt8>, quoted: Bool, to column: inout ColumnValues) {
        if f.isEmpty {
            if quoted && column.type == .string { column.append(utf8: f) } else { column.appendNull() }
            return
        }
        switch column.type {
        case .string, .binary, .json: column.append(utf8: f)
        case .int64: column.append(int: TypeInference.parseInt(f) ?? 0)
        case .double: column.append(double: TypeInference.parseInt(f).map(Double.init) ?? TypeInference.parseDouble(f) ?? 0)
        case .boolean: column.append(bool: TypeInference.parseBool(f) ?? false)
        case .date: column.append(days: Int32(truncatingIfNeeded: TemporalText.days(f) ?? 0))
        case .timestamp:
            let (us, zoned) = TemporalText.micros(f) ?? (0, false)
            if zoned { column.utc = true }
            column.append(int: us)
        }
    }

    /// The `delimiter` option's byte (checked: one ASCII character, not a quote or line break).
    static func delimiterOption(_ context: ConversionContext) -> UInt8? {
        context.options.text(TableOptions.delimiter)?.utf8.first
    }

    /// The candidate whose per-line count (outside quotes) is most consistent over the first lines.
    static func detectDelimiter<C: Collection>(_ text: C) -> UInt8 where C.Element == UInt8 {
        let candidates: [UInt8] = [0x2C, 0x3B, 0x09, 0x7C]
        var counts = [[Int]](repeating: [], count: candidates.count)
        var current = [Int](repeating: 0, count: candidates.count)
        var inQuotes = false
        var lines = 0
        for b in text.prefix(65536) {
            if b == 0x22 { inQuotes.toggle(); continue }
            if inQuotes { continue }
            if b == 0x0A {
                for k in candidates.indices { counts[k].append(current[k]); current[k] = 0 }
                lines += 1
                if lines >= 50 { break }
            } else if let k = candidates.firstIndex(of: b) {
                current[k] += 1
            }
        }
        if lines < 50 { for k in candidates.indices where current[k] > 0 { counts[k].append(current[k]) } }
        var best: (score: Int, delimiter: UInt8) = (0, 0x2C)
        for (k, c) in counts.enumerated() {
            guard let first = c.first, first > 0 else { continue }
            let consistent = c.filter { $0 == first }.count
            let score = consistent * 1000 + min(first, 999)
            if score > best.score { best = (score, candidates[k]) }
        }
        return best.delimiter
    }
}
