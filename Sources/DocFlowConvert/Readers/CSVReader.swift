import DocFlowModel

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
        var records = try Self.parse(text, delimiter: delimiter)
        let hasHeader = (context.options["header"] as? Bool) ?? true
        let width = records.map(\.count).max() ?? 0
        var ragged = 0
        for i in records.indices where records[i].count < width {
            ragged += 1
            records[i] += Array(repeating: "", count: width - records[i].count)
        }
        if ragged > 0 { context.warn("\(ragged) row(s) had fewer fields than the widest row and were padded with empty values.") }

        var names: [String]
        if hasHeader {
            names = records.removeFirst()
        } else {
            names = (1...max(width, 1)).map { "column_\($0)" }
        }
        names = Self.uniqueNames(names)
        context.progress(30, "inferring column types")
        let infer = (context.options["infer_types"] as? Bool) ?? true
        let types = (0..<width).map { col in infer ? TypeInference.infer(records.lazy.map { $0[col] }) : .string }
        let rows = records.map { rec in (0..<width).map { TypeInference.value(rec[$0], as: types[$0]) } }
        let columns = zip(names, types).map { Column(name: $0, type: $1) }
        var meta = Metadata()
        meta.properties["rows"] = .number(rows.count)
        meta.properties["columns"] = .number(columns.count)
        meta.properties["delimiter"] = .text(String(UnicodeScalar(delimiter)))
        return .table(Table(columns: columns, rows: rows, metadata: meta))
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

    /// Splits UTF-8 text into records of fields.
    static func parse(_ text: [UInt8], delimiter: UInt8) throws -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field: [UInt8] = []
        var i = 0
        var line = 1
        let n = text.count
        var quotedStartLine = 0
        func endField() { record.append(String(decoding: field, as: UTF8.self)); field.removeAll(keepingCapacity: true) }
        while i < n {
            let b = text[i]
            if b == 0x22 && field.isEmpty {
                quotedStartLine = line
                i += 1
                var closed = false
                while i < n {
                    let c = text[i]
                    if c == 0x22 {
                        if i + 1 < n && text[i + 1] == 0x22 { field.append(0x22); i += 2; continue }
                        closed = true; i += 1; break
                    }
                    if c == 0x0A { line += 1 }
                    field.append(c); i += 1
                }
                if !closed {
                    throw ConversionError(.malformedInput,
                        "Malformed CSV: the quoted field that starts on line \(quotedStartLine) is never closed.")
                }
                continue
            }
            if b == delimiter {
                endField()
            } else if b == 0x0A || b == 0x0D {
                endField()
                if b == 0x0D && i + 1 < n && text[i + 1] == 0x0A { i += 1 }
                line += 1
                if !(record.count == 1 && record[0].isEmpty) { records.append(record) }
                record.removeAll(keepingCapacity: true)
            } else {
                field.append(b)
            }
            i += 1
        }
        if !field.isEmpty || !record.isEmpty {
            endField()
            if !(record.count == 1 && record[0].isEmpty) { records.append(record) }
        }
        return records
    }
}
