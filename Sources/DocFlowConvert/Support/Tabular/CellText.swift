import DocFlowModel

/// Cells as UTF-8 text, appended straight to an output buffer (no String per cell): the CSV and
/// JSON writers' hot path. Dates and timestamps are ISO 8601, as `CivilTime` writes them.
enum CellText {
    /// Literal words, appended from static text (a shared array would be retained per cell).
    @inline(__always) static func append(_ s: StaticString, to out: inout [UInt8]) {
        s.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    @inline(__always)
    static func appendInt(_ v: Int64, to out: inout [UInt8]) {
        if v == 0 { out.append(0x30); return }
        var m = v.magnitude
        if v < 0 { out.append(0x2D) }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buf in
            var i = 20
            while m > 0 { i -= 1; buf[i] = UInt8(m % 10) + 0x30; m /= 10 }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[i..<20]))
        }
    }

    @inline(__always)
    private static func appendPadded(_ v: Int64, _ width: Int, to out: inout [UInt8]) {
        var digits = 1, t = v / 10
        while t > 0 { digits += 1; t /= 10 }
        for _ in digits..<max(width, digits) { out.append(0x30) }
        appendInt(v, to: &out)
    }

    static func appendDate(days: Int64, to out: inout [UInt8]) {
        let (y, m, d) = CivilTime.civil(fromDays: days)
        if y < 0 || y > 9999 { out.append(contentsOf: CivilTime.dateText(days: days).utf8); return }
        appendPadded(y, 4, to: &out)
        out.append(0x2D)
        appendPadded(Int64(m), 2, to: &out)
        out.append(0x2D)
        appendPadded(Int64(d), 2, to: &out)
    }

    static func appendTimestamp(_ v: Int64, perSecond: Int64, utc: Bool, to out: inout [UInt8]) {
        let (days, sod, split) = CivilTime.split(v, perSecond: perSecond)
        var frac = split
        appendDate(days: days, to: &out)
        out.append(0x54)
        appendPadded(sod / 3600, 2, to: &out)
        out.append(0x3A)
        appendPadded(sod / 60 % 60, 2, to: &out)
        out.append(0x3A)
        appendPadded(sod % 60, 2, to: &out)
        if frac != 0 {
            var digits = perSecond == 1_000 ? 3 : perSecond == 1_000_000 ? 6 : 9
            while digits > 3 && frac % 1000 == 0 { frac /= 1000; digits -= 3 }
            out.append(0x2E)
            appendPadded(frac, digits, to: &out)
        }
        if utc { out.append(0x5A) }
    }

    @inline(__always)
    /// The shortest text that reads back as the same double (Swift's `description`), integers as
    /// `3.0`; NaN and the infinities as `NaN`, `inf` and `-inf`, as pandas and DuckDB read them.
    static func appendDouble(_ d: Double, to out: inout [UInt8]) {
        guard d.isFinite else {
            if d.isNaN { append("NaN", to: &out) } else if d < 0 { append("-inf", to: &out) } else { append("inf", to: &out) }
            return
        }
        if d == d.rounded(), abs(d) < 1e15 {
            appendInt(Int64(d), to: &out)
            out.append(contentsOf: [0x2E, 0x30])  // 3.0, as Swift and Python print it
            return
        }
        out.append(contentsOf: d.description.utf8)
    }
}
