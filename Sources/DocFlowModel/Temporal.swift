/// Calendar arithmetic and ISO 8601 text for the table hub's dates and timestamps.

/// Dates and instants as ISO 8601 text, the way the Table hub carries them.
public enum CivilTime {
    /// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
    public static func civil(fromDays z0: Int64) -> (Int64, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// (year, month, day) → days since 1970-01-01.
    public static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(month > 2 ? month - 3 : month + 9)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(abs(v))
        return (v < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - s.count)) + s
    }

    public static func dateText(days: Int64) -> String {
        let (y, m, d) = civil(fromDays: days)
        return "\(pad(y, 4))-\(pad(Int64(m), 2))-\(pad(Int64(d), 2))"
    }

    /// An instant in units of `perSecond` since the epoch → (days since the epoch, second of the
    /// day, fraction of the second in those units), rounding towards the past.
    @inlinable
    public static func split(_ value: Int64, perSecond: Int64) -> (days: Int64, second: Int64, fraction: Int64) {
        var secs = value / perSecond
        var frac = value % perSecond
        if frac < 0 { frac += perSecond; secs -= 1 }
        var days = secs / 86_400
        var sod = secs % 86_400
        if sod < 0 { sod += 86_400; days -= 1 }
        return (days, sod, frac)
    }

    /// An instant in units of `perSecond` since the epoch: `YYYY-MM-DDTHH:MM:SS[.fff…][Z]`.
    public static func timestampText(_ value: Int64, perSecond: Int64, utc: Bool) -> String {
        let (days, sod, frac) = split(value, perSecond: perSecond)
        var s = dateText(days: days) + "T" + timeText(seconds: sod, fraction: frac, perSecond: perSecond)
        if utc { s += "Z" }
        return s
    }

    public static func timeText(seconds sod: Int64, fraction: Int64, perSecond: Int64) -> String {
        var s = "\(pad(sod / 3600, 2)):\(pad(sod / 60 % 60, 2)):\(pad(sod % 60, 2))"
        if fraction != 0 {
            let digits = perSecond == 1_000 ? 3 : perSecond == 1_000_000 ? 6 : 9
            var f = pad(fraction, digits)
            // Keep groups of three digits: .5 → .500, .123400 → .1234 → .123400 stays micro.
            while f.count > 3 && f.hasSuffix("000") { f.removeLast(3) }
            s += "." + f
        }
        return s
    }
}

/// Parses ISO 8601 text into days and microseconds since the epoch. Byte-level, for the CSV
/// reader's hot loop; the String forms are for everything else.
public enum TemporalText {
    @inline(__always)
    private static func digits(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ n: Int) -> Int64? {
        guard from + n <= b.count else { return nil }
        var v: Int64 = 0
        for i in from..<from + n {
            let d = b[i] &- 0x30
            guard d < 10 else { return nil }
            v = v * 10 + Int64(d)
        }
        return v
    }

    private static func monthLength(_ y: Int64, _ m: Int64) -> Int64 {
        if m == 2 { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28 }
        return m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31
    }

    /// `YYYY-MM-DD` at the start of `b` → days since the epoch.
    private static func datePart(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count >= 10, b[4] == 0x2D, b[7] == 0x2D, let y = digits(b, 0, 4), let m = digits(b, 5, 2),
              let d = digits(b, 8, 2), m >= 1, m <= 12, d >= 1, d <= monthLength(y, m) else { return nil }
        return CivilTime.days(year: y, month: Int(m), day: Int(d))
    }

    /// Exactly `YYYY-MM-DD` → days since the epoch.
    public static func days(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        b.count == 10 ? datePart(b) : nil
    }

    public static func days(_ s: String) -> Int64? {
        var s = s
        return s.withUTF8 { days($0) }
    }

    /// `YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]][Z|±HH[:MM]]` → µs since the epoch (UTC when zoned).
    /// More than six fraction digits would lose precision: not a timestamp then.
    public static func micros(_ b: UnsafeBufferPointer<UInt8>) -> (value: Int64, zoned: Bool)? {
        guard b.count >= 16, b[10] == 0x54 || b[10] == 0x20, b[13] == 0x3A, let day = datePart(b),
              let hh = digits(b, 11, 2), let mm = digits(b, 14, 2), hh < 24, mm < 60 else { return nil }
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
                    frac = frac * 10 + Int64(b[i] - 0x30)
                    n += 1; i += 1
                }
                guard n >= 1, n <= 6 else { return nil }
                for _ in n..<6 { frac *= 10 }
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

    public static func micros(_ s: String) -> (value: Int64, zoned: Bool)? {
        var s = s
        return s.withUTF8 { micros($0) }
    }
}
