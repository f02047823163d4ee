import DocFlowModel
import Foundation

/// RFC 4180 CSV: quoted fields with embedded delimiters, quotes and newlines; CRLF or LF; the
/// delimiter detected among `,` `;` TAB `|` unless `options.delimiter` says; the first row is the
/// header unless `options.header` is false; ragged rows are padded with a warning. Column types
/// are inferred unless `options.infer_types` is false (then every value stays text).
public struct CSVReader: Reader {
    public let format = Format.csv
    public init() {}

    public func read(_ bytes: [UInt8], context: ConversionContext) throws -> Payload {
        let text = try TextDecoding.utf8(bytes, context: context, what: "CSV")
        if text.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw ConversionError(.malformedInput, "The CSV file is empty.")
        }
        let delimiter = try Self.delimiterOption(context) ?? Self.detectDelimiter(text)
        // The first row is the header unless `header` says otherwise, or (when not said) it fits
        // the types of the data below it: `1,2` over numbers is data, `id,price` is a header.
        let headerOption = context.options["header"] as? Bool
        let hasHeader = headerOption ?? true
        let infer = (context.options["infer_types"] as? Bool) ?? true
        return try text.withUnsafeBufferPointer { buf -> Payload in
            // Pass 1: the header, the width and each column's type, storing nothing.
            var t = CSVTokenizer(buf, delimiter: delimiter)
            var header: [String] = []
            var candidates: [TypeInference.Candidates] = []
            var saw: [Bool] = []
            var records = 0, width = 0, short = 0
            if hasHeader, try t.next() {
                header = (0..<t.fields.count).map { i in t.withField(i) { String(decoding: $0, as: UTF8.self) } }
                width = header.count
            }
            // Where every 65,536th record starts, so pass 2 can split the work between cores.
            var checkpoints: [(pos: Int, line: Int)] = [(t.pos, t.line)]
            while try t.next() {
                records += 1
                if records & 0xFFFF == 0 { checkpoints.append((t.pos, t.line)) }
                let n = t.fields.count
                if n > width { width = n }
                if n < width { short += 1 }
                if candidates.count < n {
                    candidates += Array(repeating: infer ? .all : [], count: n - candidates.count)
                    saw += Array(repeating: false, count: n - saw.count)
                }
                for i in 0..<n where !candidates[i].isEmpty {
                    t.withField(i) { f in
                        if f.count > 0 { saw[i] = true; candidates[i].narrow(f) }
                    }
                }
                if records & 0x3FFFF == 0 { context.progress(5 + min(25, 25 * t.pos / max(buf.count, 1)), "reading CSV") }
            }
            if short > 0 { context.warn("\(short) row(s) had fewer fields than the widest row and were padded with empty values.") }
            candidates += Array(repeating: [], count: max(0, width - candidates.count))
            saw += Array(repeating: false, count: max(0, width - saw.count))
            let types = (0..<width).map { candidates[$0].type(sawValue: saw[$0]) }
            var headerIsData = false
            if headerOption == nil, hasHeader, infer {
                headerIsData = header.indices.contains { i in
                    var cell = header[i]
                    return types[i] != .string && !cell.isEmpty && cell.withUTF8 { TypeInference.fits($0, types[i]) }
                }
            }
            var names = hasHeader && !headerIsData ? header + Array(repeating: "", count: max(0, width - header.count))
                                                   : (1...max(width, 1)).map { "column_\($0)" }
            names = Self.uniqueNames(Array(names.prefix(max(width, 1))))

            // Pass 2: the values, straight into typed columns.
            context.progress(30, "reading CSV values")
            // Halves of the records (by checkpoint) parsed on each core, then joined in order.
            let cores = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 4, checkpoints.count))
            let per = (checkpoints.count + cores - 1) / cores
            let parts = Parallel.map(cores) { k -> Result<[ColumnValues], Error> in
                Result {
                    let first = k * per
                    guard first < checkpoints.count else { return types.map { ColumnValues(type: $0) } }
                    let count = min(records, (first + per) * 0x10000) - first * 0x10000
                    var data = types.map { ColumnValues(type: $0, capacity: count) }
                    var t = CSVTokenizer(buf, delimiter: delimiter)
                    (t.pos, t.line) = checkpoints[first]
                    var n = 0
                    while n < count, try t.next() {
                        n += 1
                        let fields = t.fields.count
                        for i in 0..<width {
                            if i >= fields { if types[i] == .string { data[i].append(utf8: EmptyCollection()) } else { data[i].appendNull() }; continue }
                            t.withField(i) { f in Self.append(f, to: &data[i]) }
                        }
                    }
                    return data
                }
            }
            var data = types.map { ColumnValues(type: $0, capacity: records + 1) }
            if headerIsData {
                for i in 0..<width {
                    var cell = i < header.count ? header[i] : ""
                    cell.withUTF8 { Self.append($0, to: &data[i]) }
                }
                records += 1
            }
            for part in parts {
                let more = try part.get()
                for i in 0..<width { data[i].append(contentsOf: more[i]) }
            }
            let columns = zip(names, types).map { Column(name: $0, type: $1) }
            var meta = Metadata()
            meta.properties["delimiter"] = .text(String(UnicodeScalar(delimiter)))
            return .table(Table(columns: columns, data: data, metadata: meta))
        }
    }

    /// A cell into its column; pass 1 made sure it fits the column's type.
    @inline(__always)
    static func append(_ f: UnsafeBufferPointer<UInt8>, to column: inout ColumnValues) {
        if f.isEmpty {
            if column.type == .string { column.append(utf8: f) } else { column.appendNull() }
            return
        }
        switch column.type {
        case .string: column.append(utf8: f)
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

    static func delimiterOption(_ context: ConversionContext) throws -> UInt8? {
        guard let d = context.string("delimiter") else { return nil }
        let named = ["tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"][d.lowercased()] ?? d
        guard named.utf8.count == 1, let b = named.utf8.first, b != 0x22, b != 0x0A, b != 0x0D else {
            throw ConversionError(.malformedInput, "The delimiter option must be one ASCII character other than a quote or newline.")
        }
        return b
    }

    static func uniqueNames(_ names: [String]) -> [String] {
        var seen: [String: Int] = [:]
        return names.enumerated().map { i, raw in
            var name = raw.isEmpty ? "column_\(i + 1)" : raw
            if let n = seen[name] { seen[name] = n + 1; name += "_\(n + 1)" } else { seen[name] = 1 }
            return name
        }
    }

    /// The candidate whose per-line count (outside quotes) is most consistent over the first lines.
    static func detectDelimiter(_ text: [UInt8]) -> UInt8 {
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
