import DocFlowModel

/// Infers a column type from text cells the way pyarrow and pandas do for ordinary files, without
/// losing anything: leading zeros and integers past Int64 stay text.
enum TypeInference {
    static func infer<S: Sequence>(_ cells: S) -> ColumnType where S.Element == String {
        var candidates: Set<ColumnType> = [.int64, .double, .boolean, .date, .timestamp]
        var sawValue = false
        for cell in cells {
            if cell.isEmpty { continue }
            sawValue = true
            if candidates.contains(.int64), parseInt(cell) == nil { candidates.remove(.int64) }
            if candidates.contains(.double), parseDouble(cell) == nil { candidates.remove(.double) }
            if candidates.contains(.boolean), parseBool(cell) == nil { candidates.remove(.boolean) }
            if candidates.contains(.date), !isDate(cell) { candidates.remove(.date) }
            if candidates.contains(.timestamp), !isTimestamp(cell) { candidates.remove(.timestamp) }
            if candidates.isEmpty { return .string }
        }
        guard sawValue else { return .string }
        for t in [ColumnType.int64, .double, .boolean, .date, .timestamp] where candidates.contains(t) { return t }
        return .string
    }

    static func value(_ cell: String, as type: ColumnType) -> Value {
        if cell.isEmpty { return type == .string ? .string("") : .null }
        switch type {
        case .int64: return parseInt(cell).map(Value.int) ?? .string(cell)
        case .double: return parseDouble(cell).map(Value.double) ?? .string(cell)
        case .boolean: return parseBool(cell).map(Value.bool) ?? .string(cell)
        case .date, .timestamp: return .temporal(cell)
        case .string: return .string(cell)
        }
    }

    static func parseInt(_ s: String) -> Int64? {
        let u = s.utf8
        var digits = u[...]
        if let f = digits.first, f == 0x2D || f == 0x2B { digits = digits.dropFirst() }
        guard let first = digits.first, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if first == 0x30 && digits.count > 1 { return nil }  // leading zero: an identifier, keep the text
        return Int64(s)
    }

    static func parseDouble(_ s: String) -> Double? {
        let u = s.utf8
        guard let first = u.first else { return nil }
        // Only plain decimal notation: no "nan", "inf", hex floats or spaces.
        guard first == 0x2D || first == 0x2B || first == 0x2E || (first >= 0x30 && first <= 0x39) else { return nil }
        guard u.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D || $0 == 0x2B || $0 == 0x65 || $0 == 0x45 }) else {
            return nil
        }
        var digits = u[...]
        if first == 0x2D || first == 0x2B { digits = digits.dropFirst() }
        if digits.count > 1, digits.first == 0x30, digits.dropFirst().first != 0x2E { return nil }
        // An integer that does not fit Int64 would lose digits as a double: it stays text.
        if digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) && parseInt(s) == nil { return nil }
        guard let d = Double(s), d.isFinite else { return nil }
        return d
    }

    static func parseBool(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }

    /// `YYYY-MM-DD` with a plausible month and day.
    static func isDate(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 10, b[4] == 0x2D, b[7] == 0x2D else { return false }
        for i in [0, 1, 2, 3, 5, 6, 8, 9] where !(b[i] >= 0x30 && b[i] <= 0x39) { return false }
        let month = Int(b[5] - 0x30) * 10 + Int(b[6] - 0x30)
        let day = Int(b[8] - 0x30) * 10 + Int(b[9] - 0x30)
        return (1...12).contains(month) && (1...31).contains(day)
    }

    /// `YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|±HH:MM]`.
    static func isTimestamp(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count >= 16, isDate(String(decoding: b[0..<10], as: UTF8.self)), b[10] == 0x54 || b[10] == 0x20,
              b[13] == 0x3A else { return false }
        let digit: (UInt8) -> Bool = { $0 >= 0x30 && $0 <= 0x39 }
        guard digit(b[11]), digit(b[12]), digit(b[14]), digit(b[15]) else { return false }
        return b[16...].allSatisfy { digit($0) || $0 == 0x3A || $0 == 0x2E || $0 == 0x5A || $0 == 0x2B || $0 == 0x2D }
    }
}
