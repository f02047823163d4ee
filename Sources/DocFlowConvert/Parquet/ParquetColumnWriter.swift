import DocFlowModel

/// How a table column is stored in Parquet. A column whose values do not all fit its declared
/// type (a reader's mixed column) is stored as strings, so nothing is lost.
enum ParquetColumnKind: Equatable {
    case int64, double, boolean, date, string
    case timestamp(utc: Bool)

    var physical: ParquetType {
        switch self {
        case .int64, .timestamp: return .int64
        case .double: return .double
        case .boolean: return .boolean
        case .date: return .int32
        case .string: return .byteArray
        }
    }

    var convertedType: Int? {
        switch self {
        case .string: return 0
        case .date: return 6
        case .timestamp(true): return 10
        default: return nil
        }
    }

    var writeLogical: ((inout Thrift.Writer) -> Void)? {
        switch self {
        case .string: return { w in w.structure(1) { _ in } }
        case .date: return { w in w.structure(6) { _ in } }
        case .timestamp(let utc):
            return { w in
                w.structure(8) { w in
                    w.bool(1, utc)
                    w.structure(2) { w in w.structure(2) { _ in } }
                }
            }
        default: return nil
        }
    }

    static func choose(for type: ColumnType, column c: Int, rows: [[Value]]) -> ParquetColumnKind {
        switch type {
        case .int64:
            return rows.allSatisfy { if case .int = $0[c] { return true }; return $0[c] == .null } ? .int64 : .string
        case .double:
            return rows.allSatisfy {
                switch $0[c] { case .double, .int, .null: return true; default: return false }
            } ? .double : .string
        case .boolean:
            return rows.allSatisfy { if case .bool = $0[c] { return true }; return $0[c] == .null } ? .boolean : .string
        case .date:
            return rows.allSatisfy {
                if case .temporal(let s) = $0[c] { return TemporalText.days(s) != nil }; return $0[c] == .null
            } ? .date : .string
        case .timestamp:
            var utc = false
            for row in rows {
                switch row[c] {
                case .null: continue
                case .temporal(let s):
                    guard let t = TemporalText.micros(s) else { return .string }
                    utc = utc || t.zoned
                default: return .string
                }
            }
            return .timestamp(utc: utc)
        case .string: return .string
        }
    }
}

/// Parses the hub's ISO 8601 text into Parquet's integers.
enum TemporalText {
    private static func digits(_ b: [UInt8], _ from: Int, _ n: Int) -> Int64? {
        guard from + n <= b.count else { return nil }
        var v: Int64 = 0
        for i in from..<from + n {
            guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
            v = v * 10 + Int64(b[i] - 0x30)
        }
        return v
    }

    /// `YYYY-MM-DD` → days since the epoch.
    static func days(_ s: String) -> Int64? {
        let b = Array(s.utf8.prefix(10))
        guard b.count == 10, b[4] == 0x2D, b[7] == 0x2D, s.utf8.count == 10 else { return nil }
        return days(b)
    }

    private static func days(_ b: [UInt8]) -> Int64? {
        guard let y = digits(b, 0, 4), let m = digits(b, 5, 2), let d = digits(b, 8, 2),
              (1...12).contains(m), d >= 1, d <= monthLength(y, Int(m)) else { return nil }
        return CivilTime.days(year: y, month: Int(m), day: Int(d))
    }

    private static func monthLength(_ y: Int64, _ m: Int) -> Int64 {
        if m == 2 { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28 }
        return [4, 6, 9, 11].contains(m) ? 30 : 31
    }

    /// `YYYY-MM-DD[T ]HH:MM[:SS[.fffffffff]][Z|±HH[:MM]]` → µs since the epoch (UTC when zoned).
    static func micros(_ s: String) -> (value: Int64, zoned: Bool)? {
        let b = Array(s.utf8)
        guard b.count >= 16, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x20, b[13] == 0x3A,
              let day = days(Array(b[0..<10])), let hh = digits(b, 11, 2), let mm = digits(b, 14, 2), hh < 24, mm < 60 else { return nil }
        var i = 16
        var sec: Int64 = 0, frac: Int64 = 0
        if i < b.count && b[i] == 0x3A {
            guard let ss = digits(b, i + 1, 2), ss < 60 else { return nil }
            sec = ss
            i += 3
            if i < b.count && (b[i] == 0x2E || b[i] == 0x2C) {
                i += 1
                var n = 0
                while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                    if n < 6 { frac = frac * 10 + Int64(b[i] - 0x30) }
                    n += 1; i += 1
                }
                guard n >= 1, n <= 9 else { return nil }
                for _ in min(n, 6)..<6 { frac *= 10 }
            }
        }
        var offset: Int64 = 0
        var zoned = false
        if i < b.count {
            if b[i] == 0x5A && i + 1 == b.count {
                zoned = true
            } else if b[i] == 0x2B || b[i] == 0x2D {
                let sign: Int64 = b[i] == 0x2D ? -1 : 1
                guard let oh = digits(b, i + 1, 2) else { return nil }
                var om: Int64 = 0
                var j = i + 3
                if j < b.count && b[j] == 0x3A { j += 1 }
                if j < b.count { guard let m = digits(b, j, 2), j + 2 == b.count else { return nil }; om = m }
                guard oh < 24, om < 60 else { return nil }
                offset = sign * (oh * 3600 + om * 60)
                zoned = true
            } else {
                return nil
            }
        }
        let seconds = day * 86_400 + hh * 3600 + mm * 60 + sec - offset
        let (us, o) = seconds.multipliedReportingOverflow(by: 1_000_000)
        guard !o else { return nil }
        return (us + frac, zoned)
    }
}

/// Encodes one column chunk of a row group: optional dictionary page, then data pages.
struct ColumnChunkWriter {
    let kind: ParquetColumnKind
    let codec: ParquetCodec
    let name: String
    static let pageRows = 16_384

    /// Values of one chunk, typed.
    enum Values {
        case ints([Int64]), doubles([Double]), bools([Bool]), dates([Int32]), bytes([[UInt8]])
    }

    mutating func write(rows: ArraySlice<[Value]>, column c: Int, to out: inout [UInt8]) -> ChunkMeta {
        var defs: [UInt32] = []
        defs.reserveCapacity(rows.count)
        var values: Values
        switch kind {
        case .int64, .timestamp:
            var v: [Int64] = []
            for row in rows {
                switch row[c] {
                case .int(let i): v.append(i); defs.append(1)
                case .temporal(let s): v.append(TemporalText.micros(s)?.value ?? 0); defs.append(1)
                default: defs.append(0)
                }
            }
            values = .ints(v)
        case .double:
            var v: [Double] = []
            for row in rows {
                switch row[c] {
                case .double(let d): v.append(d); defs.append(1)
                case .int(let i): v.append(Double(i)); defs.append(1)
                default: defs.append(0)
                }
            }
            values = .doubles(v)
        case .boolean:
            var v: [Bool] = []
            for row in rows { if case .bool(let b) = row[c] { v.append(b); defs.append(1) } else { defs.append(0) } }
            values = .bools(v)
        case .date:
            var v: [Int32] = []
            for row in rows {
                if case .temporal(let s) = row[c], let d = TemporalText.days(s) { v.append(Int32(truncatingIfNeeded: d)); defs.append(1) } else { defs.append(0) }
            }
            values = .dates(v)
        case .string:
            var v: [[UInt8]] = []
            for row in rows {
                switch row[c] {
                case .null: defs.append(0)
                case .string(let s): v.append(Array(s.utf8)); defs.append(1)
                case let other: v.append(Array(other.displayText.utf8)); defs.append(1)
                }
            }
            values = .bytes(v)
        }
        return emit(values, defs: defs, to: &out)
    }
}
