import DocFlowModel
import Foundation

/// Infers a column type from text cells the way pyarrow and pandas do for ordinary files, without
/// losing anything: leading zeros, integers past Int64, timestamps finer than microseconds and
/// numbers written any other way than plain decimal stay text. Works on bytes: the CSV reader
/// calls it for every cell.
enum TypeInference {
    /// The types a column can still be, as bits.
    struct Candidates: OptionSet {
        let rawValue: UInt8
        static let int64 = Candidates(rawValue: 1)
        static let double = Candidates(rawValue: 2)
        static let boolean = Candidates(rawValue: 4)
        static let date = Candidates(rawValue: 8)
        static let timestamp = Candidates(rawValue: 16)
        static let all: Candidates = [.int64, .double, .boolean, .date, .timestamp]
        /// Not a type: some cell of a column that can still be a timestamp had a zone (Z or an
        /// offset), so the column holds UTC instants — known before any value is stored.
        static let zoned = Candidates(rawValue: 32)

        /// The types both can be; zoned when either saw a zone.
        func joined(_ o: Candidates) -> Candidates {
            var j = intersection(o)
            if j.contains(.timestamp) { j.formUnion(union(o).intersection(.zoned)) }
            return j
        }

        /// The narrowest type left, once every cell has been seen.
        func type(sawValue: Bool) -> ColumnType {
            guard sawValue else { return .string }
            if contains(.int64) { return .int64 }
            if contains(.double) { return .double }
            if contains(.boolean) { return .boolean }
            if contains(.date) { return .date }
            if contains(.timestamp) { return .timestamp }
            return .string
        }

        /// Drops the types `cell` does not fit.
        @inline(__always)
        mutating func narrow(_ cell: UnsafeBufferPointer<UInt8>) {
            if contains(.int64) {
                if parseInt(cell) != nil { self = intersection([.int64, .double]); return }
                remove(.int64)
            }
            if contains(.double), !isDouble(cell) { remove(.double) }
            if contains(.boolean), parseBool(cell) == nil { remove(.boolean) }
            if contains(.date), TemporalText.days(cell) == nil { remove(.date) }
            if contains(.timestamp) {
                if let (_, z) = TemporalText.micros(cell) { if z { insert(.zoned) } } else { subtract([.timestamp, .zoned]) }
            }
        }
    }

    /// Whether a cell can be a value of `type` (a header cell that would be data).
    static func fits(_ cell: UnsafeBufferPointer<UInt8>, _ type: ColumnType) -> Bool {
        switch type {
        case .int64: return parseInt(cell) != nil
        case .double: return isDouble(cell)
        case .boolean: return parseBool(cell) != nil
        case .date: return TemporalText.days(cell) != nil
        case .timestamp: return TemporalText.micros(cell) != nil
        case .string, .binary, .json: return true
        }
    }

    /// A plain decimal integer that fits Int64, without a leading zero (an identifier keeps its text).
    @inline(__always)
    static func parseInt(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        let n = b.count
        guard n > 0, n <= 20 else { return nil }
        var negative = false
        if b[0] == 0x2D || b[0] == 0x2B { negative = b[0] == 0x2D; i = 1 }
        guard i < n else { return nil }
        if b[i] == 0x30 && n - i > 1 { return nil }
        var v: Int64 = 0
        while i < n {
            let d = b[i] &- 0x30
            guard d < 10 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { return nil }
            v = a
            i += 1
        }
        return v
    }

    /// NaN and the infinities as CSV writers spell them (`NaN`, `nan`, `inf`, `-inf`, `Infinity`,
    /// any case; what Doc Flow, pandas and DuckDB write), so NaN stays NaN through CSV.
    @inline(__always)
    static func special(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        let n = b.count
        guard n >= 3, n <= 9 else { return nil }
        let sign = b[0] == 0x2D || b[0] == 0x2B ? 1 : 0
        func word(_ w: StaticString) -> Bool {
            guard n - sign == w.utf8CodeUnitCount else { return false }
            return w.withUTF8Buffer { u in (0..<u.count).allSatisfy { b[sign + $0] | 0x20 == u[$0] } }
        }
        if sign == 0, word("nan") { return .nan }
        if word("inf") || word("infinity") { return b[0] == 0x2D ? -.infinity : .infinity }
        return nil
    }

    /// Plain decimal notation, or NaN and the infinities (`special`): no hex floats, spaces or
    /// thousands separators; integers that do not fit Int64 are not doubles (they would lose digits).
    static func parseDouble(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        let n = b.count
        guard n > 0, n < 64 else { return nil }
        if let v = special(b) { return v }
        let first = b[0]
        guard first == 0x2D || first == 0x2B || first == 0x2E || (first &- 0x30) < 10 else { return nil }
        for c in b where (c &- 0x30) >= 10 {
            guard c == 0x2E || c == 0x2D || c == 0x2B || c == 0x65 || c == 0x45 else { return nil }
        }
        var d0 = 0
        if first == 0x2D || first == 0x2B { d0 = 1 }
        if n - d0 > 1, b[d0] == 0x30, b[d0 + 1] != 0x2E { return nil }
        let digitsOnly = UnsafeBufferPointer(rebasing: b[d0...]).allSatisfy { ($0 &- 0x30) < 10 }
        if digitsOnly && parseInt(b) == nil { return nil }
        // Clinger's fast path: at most 15 significant digits and no exponent. The digits as an
        // integer (exact below 2^53) divided once by an exact power of ten is the correctly
        // rounded double strtod returns, without strtod.
        var i = d0, mantissa: Int64 = 0, digits = 0, fraction = 0, dot = false, simple = true
        while i < n {
            let c = b[i]
            if c == 0x2E {
                if dot { simple = false; break }
                dot = true
            } else if (c &- 0x30) < 10 {
                if digits > 0 || c != 0x30 { digits += 1 }
                if digits > 15 { simple = false; break }
                mantissa = mantissa * 10 + Int64(c &- 0x30)
                if dot { fraction += 1 }
            } else {
                simple = false
                break
            }
            i += 1
        }
        if simple, fraction <= 22, n - d0 > (dot ? 1 : 0) {
            var power = 1.0  // 10^fraction, exact: every power up to 10^22 is a double
            for _ in 0..<fraction { power *= 10 }
            let v = Double(mantissa) / power
            return first == 0x2D ? -v : v
        }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf -> Double? in
            for i in 0..<n { buf[i] = CChar(bitPattern: b[i]) }
            buf[n] = 0
            var end: UnsafeMutablePointer<CChar>? = nil
            let v = strtod(buf.baseAddress!, &end)
            guard end == buf.baseAddress! + n, v.isFinite else { return nil }
            return v
        }
    }

    /// Whether `parseDouble` would accept the cell, mostly without converting it: a syntax check,
    /// and strtod only for an exponent (which may overflow to infinity).
    @inline(__always)
    static func isDouble(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = b.count
        guard n > 0, n < 64 else { return false }
        if special(b) != nil { return true }
        var i = 0
        if b[0] == 0x2D || b[0] == 0x2B { i = 1 }
        let intStart = i
        while i < n, (b[i] &- 0x30) < 10 { i += 1 }
        let intDigits = i - intStart
        if intDigits > 1 && b[intStart] == 0x30 { return false }
        var fracDigits = 0
        if i < n && b[i] == 0x2E {
            i += 1
            let f = i
            while i < n, (b[i] &- 0x30) < 10 { i += 1 }
            fracDigits = i - f
        }
        guard intDigits + fracDigits > 0 else { return false }
        if i == n {
            // An integer too long for Int64 would lose digits as a double.
            return fracDigits > 0 || b[intStart..<n].count < 19 || parseInt(b) != nil
        }
        guard b[i] == 0x65 || b[i] == 0x45 else { return false }
        i += 1
        if i < n && (b[i] == 0x2D || b[i] == 0x2B) { i += 1 }
        let e = i
        while i < n, (b[i] &- 0x30) < 10 { i += 1 }
        guard i == n, i > e else { return false }
        return parseDouble(b) != nil
    }

    static func parseBool(_ b: UnsafeBufferPointer<UInt8>) -> Bool? {
        if b.count == 4, b[0] | 0x20 == 0x74, b[1] | 0x20 == 0x72, b[2] | 0x20 == 0x75, b[3] | 0x20 == 0x65 { return true }
        if b.count == 5, b[0] | 0x20 == 0x66, b[1] | 0x20 == 0x61, b[2] | 0x20 == 0x6C, b[3] | 0x20 == 0x73, b[4] | 0x20 == 0x65 { return false }
        return nil
    }

    static func isDate(_ s: String) -> Bool { TemporalText.days(s) != nil }
    static func isTimestamp(_ s: String) -> Bool { TemporalText.micros(s) != nil }
}
