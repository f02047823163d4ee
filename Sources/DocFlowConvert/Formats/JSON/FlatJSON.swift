import DocFlowCore
import DocFlowModel
import Foundation

/// The common JSON shape read fast: an array of objects (or JSON Lines of objects) whose values are
/// all scalars. Two passes over the bytes, as for CSV: the first settles each column's type without
/// keeping values, the second appends typed values straight into the columns — no tree, no String
/// per key. Anything else (nesting, duplicate keys, other shapes, malformed input) returns nil and
/// the general reader takes over, with its messages. The types come out as the general reader's.
struct FlatJSON {
    let b: UnsafeBufferPointer<UInt8>

    /// What pass 1 learns of a column.
    struct Stats {
        var ints = 0, doubles = 0, bools = 0, strings = 0, other = 0
        var allDates = true, allTimestamps = true
        /// Some timestamp had a zone: the column holds UTC instants.
        var zoned = false
        var lastRow = -1

        var type: ColumnType {
            let total = ints + doubles + bools + strings + other
            if total == 0 || other > 0 || (strings > 0 && strings < total) { return .string }
            if ints == total { return .int64 }
            if ints + doubles == total { return .double }
            if bools == total { return .boolean }
            if strings == total { return allDates ? .date : allTimestamps ? .timestamp : .string }
            return .string
        }
    }

    enum Scalar {
        case null, bool(Bool), int(Int64), double(Double), big(Range<Int>)
        /// The bytes between the quotes; `escaped` when they hold a backslash.
        case string(Range<Int>, escaped: Bool)
    }

    /// The records of `input` (past a BOM of `skip` bytes) as a stream, or nil when they are
    /// not flat records (or not UTF-8). Pass 1 hands back the pages it has read; pass 2 reads
    /// batches of 131,072 records again, on every core, and hands their pages back too.
    static func stream(_ input: InputBytes, skip: Int, context: ConversionContext) -> TableStream? {
        let reader = FlatJSON(b: UnsafeBufferPointer(rebasing: input.buffer[skip...]))
        return reader.stream(context) { r in input.release((r.lowerBound + skip)..<(r.upperBound + skip)) }
    }

    /// The records of `bytes` as one table, or nil as for `stream`.
    static func read(_ bytes: [UInt8], context: ConversionContext) -> Table? {
        guard TextDecoding.isValidUTF8(bytes) else { return nil }
        return try? stream(InputBytes(bytes), skip: 0, context: context)?.collect()
    }

    private func stream(_ context: ConversionContext, release: @escaping (Range<Int>) -> Void) -> TableStream? {
        var names: [String] = []
        var index: [String: Int] = [:]
        var stats: [Stats] = []
        var rows = 0
        var order = KeyOrder()
        var checkpoints: [Checkpoint] = []
        // Pass 1.
        let ok = records(checkpoints: { cp in
            release((checkpoints.last?.offset ?? 0)..<cp.offset)
            checkpoints.append(cp)
        }) { row, key, keyEscaped, value in
            let c = column(key, keyEscaped, order.predict(row), &names, &index, &stats)
            order.saw(c)
            guard stats[c].lastRow != row else { return false }  // a duplicate key
            stats[c].lastRow = row
            switch value {
            case .null: break
            case .bool: stats[c].bools += 1
            case .int: stats[c].ints += 1
            case .double: stats[c].doubles += 1
            case .big: stats[c].other += 1
            case .string(let r, let escaped):
                if r.isEmpty { break }  // "" in a typed column is a blank
                stats[c].strings += 1
                if stats[c].allDates || stats[c].allTimestamps {
                    let raw = UnsafeBufferPointer(rebasing: b[r])
                    if escaped || TemporalText.days(raw) == nil { stats[c].allDates = false }
                    if !escaped, let (_, zoned) = TemporalText.micros(raw) { if zoned { stats[c].zoned = true } } else { stats[c].allTimestamps = false }
                }
            }
            return true
        } rowDone: { row in rows = row + 1 }
        release((checkpoints.last?.offset ?? 0)..<b.count)
        guard ok, !names.isEmpty else { return nil }
        context.progress(30, "reading JSON values")
        // Pass 2: batches of two checkpoints' records (131,072), one per core, handed over in order.
        let types = stats.map(\.type)
        let perBatch = 2
        let (allNames, allIndex, allStats) = (names, index, stats)
        let parse = { (first: Int) -> [ColumnValues]? in
            var names = allNames, index = allIndex, stats = allStats  // only read: every key is known
            let count = min(rows, (first + perBatch) * 0x10000) - first * 0x10000
            var data = types.indices.map { c -> ColumnValues in
                var v = ColumnValues(type: types[c], capacity: count)
                v.utc = allStats[c].zoned
                return v
            }
            var filled = [Int](repeating: -1, count: names.count)
            var order = KeyOrder()
            let ok = records(from: checkpoints[first], limit: count) { row, key, keyEscaped, value in
                let c = column(key, keyEscaped, order.predict(row), &names, &index, &stats)
                order.saw(c)
                filled[c] = row
                append(value, to: &data[c])
                return true
            } rowDone: { row in
                for c in 0..<data.count where filled[c] != row { data[c].appendNull() }
            }
            release(checkpoints[first].offset..<(first + perBatch < checkpoints.count ? checkpoints[first + perBatch].offset : b.count))
            return ok ? data : nil
        }
        let columns = zip(ColumnNames.unique(names), types).map { Column(name: $0, type: $1) }
        return TableStream(columns: columns, metadata: Metadata(), rowCount: rows,
                           batches: TableStream.parallelRounds((checkpoints.count + perBatch - 1) / perBatch) { k in
            // Pass 1 checked these records; a second reading that disagrees is a bug, not bad input.
            guard let data = parse(k * perBatch) else { throw ConversionError(.internal, "The JSON records could not be read again.") }
            return data
        })
    }

    /// The column each key position held in the previous record: keys repeat in the same order
    /// row after row, so a key is first compared with that column's name, byte for byte.
    struct KeyOrder {
        var columns: [Int] = []
        var position = 0
        var row = -1

        mutating func predict(_ r: Int) -> Int {
            if r != row { row = r; position = 0 }
            return position < columns.count ? columns[position] : -1
        }

        mutating func saw(_ c: Int) {
            if position < columns.count { columns[position] = c } else { columns.append(c) }
            position += 1
        }
    }

    private func column(_ key: Range<Int>, _ escaped: Bool, _ predicted: Int, _ names: inout [String], _ index: inout [String: Int],
                        _ stats: inout [Stats]) -> Int {
        if !escaped, predicted >= 0 {
            var name = names[predicted]
            let same = name.withUTF8 { n in n.count == key.count && (n.isEmpty || memcmp(n.baseAddress!, b.baseAddress! + key.lowerBound, n.count) == 0) }
            if same { return predicted }
        }
        let name: String
        if escaped {
            var p = JSONParser(Array(b[(key.lowerBound - 1)...key.upperBound]))
            name = (try? p.string()) ?? String(decoding: b[key], as: UTF8.self)
        } else {
            name = String(decoding: UnsafeBufferPointer(rebasing: b[key]), as: UTF8.self)
        }
        if let c = index[name] { return c }
        index[name] = names.count
        names.append(name)
        stats.append(Stats())
        return names.count - 1
    }

    private func append(_ v: Scalar, to col: inout ColumnValues) {
        switch (v, col.type) {
        case (.null, _): col.appendNull()
        case (.string(let r, _), let t) where r.isEmpty && t != .string: col.appendNull()
        case (.int(let i), .int64): col.append(int: i)
        case (.int(let i), .double): col.append(double: Double(i))
        case (.double(let d), .double): col.append(double: d)
        case (.bool(let x), .boolean): col.append(bool: x)
        case (.string(let r, _), .date): col.append(days: Int32(truncatingIfNeeded: TemporalText.days(UnsafeBufferPointer(rebasing: b[r])) ?? 0))
        case (.string(let r, _), .timestamp):
            let (us, zoned) = TemporalText.micros(UnsafeBufferPointer(rebasing: b[r])) ?? (0, false)
            if zoned { col.utc = true }
            col.append(int: us)
        case (.string(let r, let escaped), _):
            if escaped {
                var p = JSONParser(Array(b[(r.lowerBound - 1)...r.upperBound]))
                col.append(string: (try? p.string()) ?? "")
            } else {
                col.append(utf8: UnsafeBufferPointer(rebasing: b[r]))
            }
        case (.int(let i), _): col.append(string: String(i))
        case (.double(let d), _): col.append(string: "\(d)")
        case (.bool(let x), _): col.append(string: x ? "true" : "false")
        case (.big(let r), _): col.append(utf8: UnsafeBufferPointer(rebasing: b[r]))
        }
    }

    // MARK: scanning

    /// Calls `value` for every key and scalar of every record, `rowDone` after each record; false
    /// when the document is not a flat array / JSON Lines of objects (or `value` says stop).
    /// Where a record starts, for a second pass split between cores.
    struct Checkpoint {
        var offset: Int, row: Int, inArray: Bool
    }

    /// Walks the records from the start, or from `resume` for at most `limit` records (the
    /// caller already knows those bytes are well formed), calling `value` for each key and value.
    private func records(from resume: Checkpoint? = nil, limit: Int = .max, checkpoints: ((Checkpoint) -> Void)? = nil,
                         _ value: (Int, Range<Int>, Bool, Scalar) -> Bool, rowDone: (Int) -> Void) -> Bool {
        var i: Int, inArray: Bool, row: Int
        if let r = resume {
            (i, inArray, row) = (r.offset, r.inArray, r.row)
        } else {
            i = skip(0)
            guard i < b.count else { return false }
            inArray = b[i] == 0x5B
            if inArray { i = skip(i + 1); if i < b.count && b[i] == 0x5D { return false } }
            row = 0
        }
        let end = limit == .max ? Int.max : row + limit
        while i < b.count {
            if row == end { return true }
            if row & 0xFFFF == 0, let checkpoints { checkpoints(Checkpoint(offset: i, row: row, inArray: inArray)) }
            guard b[i] == 0x7B else { return false }
            i = skip(i + 1)
            if i < b.count && b[i] == 0x7D {
                i += 1
            } else {
                while true {
                    guard i < b.count, b[i] == 0x22, let (key, keyEscaped, afterKey) = string(i) else { return false }
                    i = skip(afterKey)
                    guard i < b.count, b[i] == 0x3A else { return false }
                    i = skip(i + 1)
                    guard i < b.count, let (v, next) = scalar(i), value(row, key, keyEscaped, v) else { return false }
                    i = skip(next)
                    guard i < b.count else { return false }
                    if b[i] == 0x2C { i = skip(i + 1); continue }
                    guard b[i] == 0x7D else { return false }
                    i += 1
                    break
                }
            }
            rowDone(row)
            row += 1
            i = skip(i)
            if inArray {
                guard i < b.count else { return false }
                if b[i] == 0x2C { i = skip(i + 1); continue }
                guard b[i] == 0x5D else { return false }
                return skip(i + 1) == b.count
            }
        }
        return !inArray && row > 0
    }

    @inline(__always)
    private func skip(_ from: Int) -> Int {
        var i = from
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        return i
    }

    /// A string at `i` (its opening quote): the range between the quotes, whether it holds an
    /// escape, and the index after the closing quote. Control characters make it nil (invalid).
    @inline(__always)
    private func string(_ i: Int) -> (Range<Int>, Bool, Int)? {
        var j = i + 1
        var escaped = false
        while j < b.count {
            let c = b[j]
            if c == 0x22 { return (i + 1..<j, escaped, j + 1) }
            if c == 0x5C { escaped = true; j += 2; continue }
            if c < 0x20 { return nil }
            j += 1
        }
        return nil
    }

    /// A scalar at `i` and the index after it; nil for objects, arrays and anything invalid.
    private func scalar(_ i: Int) -> (Scalar, Int)? {
        switch b[i] {
        case 0x22:
            guard let (r, escaped, next) = string(i) else { return nil }
            return (.string(r, escaped: escaped), next)
        case 0x74: return word(i, "true") ? (.bool(true), i + 4) : nil
        case 0x66: return word(i, "false") ? (.bool(false), i + 5) : nil
        case 0x6E: return word(i, "null") ? (.null, i + 4) : nil
        case 0x2D, 0x30...0x39:
            var j = i
            if b[j] == 0x2D { j += 1 }
            let digitsStart = j
            while j < b.count, (b[j] &- 0x30) < 10 { j += 1 }
            guard j > digitsStart, !(j - digitsStart > 1 && b[digitsStart] == 0x30) else { return nil }
            var integral = true
            if j < b.count && b[j] == 0x2E {
                j += 1
                let f = j
                while j < b.count, (b[j] &- 0x30) < 10 { j += 1 }
                guard j > f else { return nil }
                integral = false
            }
            if j < b.count && (b[j] == 0x65 || b[j] == 0x45) {
                j += 1
                if j < b.count && (b[j] == 0x2B || b[j] == 0x2D) { j += 1 }
                let e = j
                while j < b.count, (b[j] &- 0x30) < 10 { j += 1 }
                guard j > e else { return nil }
                integral = false
            }
            let raw = UnsafeBufferPointer(rebasing: b[i..<j])
            if integral { return (TypeInference.parseInt(raw).map(Scalar.int) ?? .big(i..<j), j) }
            return (Self.double(raw).map(Scalar.double) ?? .big(i..<j), j)
        default:
            return nil
        }
    }

    /// A JSON number (already checked against the grammar) as a finite double.
    static func double(_ raw: UnsafeBufferPointer<UInt8>) -> Double? {
        guard raw.count < 64 else { return Double(String(decoding: raw, as: UTF8.self)).flatMap { $0.isFinite ? $0 : nil } }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: raw.count + 1) { buf -> Double? in
            for k in 0..<raw.count { buf[k] = CChar(bitPattern: raw[k]) }
            buf[raw.count] = 0
            let v = strtod(buf.baseAddress!, nil)
            return v.isFinite ? v : nil
        }
    }

    private func word(_ i: Int, _ w: StaticString) -> Bool {
        let n = w.utf8CodeUnitCount
        guard b.count - i >= n else { return false }
        for k in 0..<n where b[i + k] != w.utf8Start[k] { return false }
        return true
    }
}
