import DocFlowModel

/// PLAIN decoding, and physical values into the hub's typed columns.
extension ColumnChunkReader {
    mutating func plain(_ c: inout ByteCursor, count: Int) throws -> ColumnValues {
        guard count >= 0 else { throw ParquetEncoding.corrupt("a negative value count") }
        var out = newColumn(capacity: count)
        func need(_ n: Int, _ what: String) throws {
            guard n <= c.remaining else { throw ParquetEncoding.corrupt("\(what) values run past their page") }
        }
        switch leaf.physical {
        case .boolean:
            let raw = try c.take((count + 7) / 8)
            for i in 0..<count { out.append(bool: raw[raw.startIndex + i >> 3] >> UInt8(i & 7) & 1 == 1) }
        case .int32:
            try need(4 * count, "INT32")
            for _ in 0..<count { appendInteger(Int64(Int32(bitPattern: try c.le32())), to: &out) }
        case .int64:
            try need(8 * count, "INT64")
            if leaf.meaning == .integer {
                for _ in 0..<count { out.append(int: Int64(bitPattern: try c.le64())) }
            } else {
                for _ in 0..<count { appendInteger(Int64(bitPattern: try c.le64()), to: &out) }
            }
        case .int96:
            try need(12 * count, "INT96")
            for _ in 0..<count {
                let nanos = Int64(bitPattern: try c.le64())
                let julian = Int64(Int32(bitPattern: try c.le32()))
                // Microseconds since the epoch; Spark's out-of-range sentinels (±290,000 years) do
                // not fit and become null, with a warning (pyarrow wraps them around instead).
                let (dayMicros, o1) = (julian - 2_440_588).multipliedReportingOverflow(by: 86_400_000_000)
                let (us, o2) = dayMicros.addingReportingOverflow(nanos / 1_000)
                if o1 || o2 {
                    out.appendNull()
                    warnings.insert("INT96 timestamps outside what microseconds since 1970 can hold became empty.")
                } else {
                    out.append(int: us)
                }
            }
        case .float:
            try need(4 * count, "FLOAT")
            // A FLOAT as the double of its shortest decimal text (1.1, not 1.100000023841858),
            // so text outputs print what the writer meant, as DuckDB does.
            for _ in 0..<count { appendDouble(Self.widen(Float(bitPattern: try c.le32())), to: &out) }
        case .double:
            try need(8 * count, "DOUBLE")
            for _ in 0..<count { appendDouble(Double(bitPattern: try c.le64()), to: &out) }
        case .byteArray:
            for _ in 0..<count {
                let n = Int(try c.le32())
                try appendBytes(c.take(n), to: &out)
            }
        case .fixedLenByteArray:
            guard leaf.typeLength > 0 else { throw ParquetEncoding.corrupt("a fixed-length column has no length") }
            try need(leaf.typeLength * count, "fixed-length")
            for _ in 0..<count { try appendBytes(c.take(leaf.typeLength), to: &out) }
        }
        return out
    }

    /// NaN and the infinities are kept: each writer says what it does with them.
    @inline(__always)
    func appendDouble(_ d: Double, to out: inout ColumnValues) {
        out.append(double: d)
    }

    /// A float widened to the double nearest its shortest round-tripping decimal text.
    @inline(__always)
    static func widen(_ f: Float) -> Double {
        guard f.isFinite, f != f.rounded() else { return Double(f) }
        return Double(f.description) ?? Double(f)
    }

    @inline(__always)
    func appendInteger(_ v: Int64, to out: inout ColumnValues) {
        switch leaf.meaning {
        case .date: out.append(days: Int32(truncatingIfNeeded: v))
        case .timestamp: out.append(int: v)
        case .timeOfDay(let per):
            out.append(string: CivilTime.timeText(seconds: v / per, fraction: v % per, perSecond: per))
        case .decimal(let scale): out.append(string: Decimal128.text(Int128(v), scale: scale))
        case .unsigned:
            if leaf.physical == .int32 { out.append(int: Int64(UInt32(truncatingIfNeeded: v))) } else {
                out.append(string: String(UInt64(bitPattern: v)))
            }
        default: out.append(int: v)
        }
    }

    mutating func appendBytes(_ b: ArraySlice<UInt8>, to out: inout ColumnValues) throws {
        switch leaf.meaning {
        case .decimal(let scale):
            guard b.count <= 16 else {
                throw ConversionError(.unsupportedConversion, "The Parquet column “\(leaf.name)” holds decimals wider than 128 bits.")
            }
            out.append(string: Decimal128.text(Decimal128.bigEndian(b), scale: scale))
        case .uuid where b.count == 16:
            let hex = b.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
            let h = Array(hex)
            out.append(string: String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(h[16..<20]) + "-" + String(h[20...]))
        case .float16 where b.count == 2:
            let bits = UInt16(b[b.startIndex]) | UInt16(b[b.startIndex + 1]) << 8
            let h = Float16(bitPattern: bits)
            appendDouble(h.isFinite && h != h.rounded() ? Double(h.description) ?? Double(h) : Double(h), to: &out)
        default:
            guard out.type.holdsBytes else {  // a FLOAT16 of the wrong width
                out.appendNull()
                warnings.insert("Malformed values of column “\(leaf.name)” became empty.")
                return
            }
            if out.type == .binary || b.allSatisfy({ $0 < 0x80 }) || String(validating: b, as: UTF8.self) != nil {
                out.append(utf8: b)
            } else {
                // A column of text in its first row group, bytes further on: base64 here.
                warnings.insert("Values of column “\(leaf.name)” that are not UTF-8 text (after a first row group of text) were written as base64.")
                out.append(string: Base64.encode(b))
            }
        }
    }
}

/// Decimal values up to 128 bits as exact text.
enum Decimal128 {
    static func bigEndian(_ b: ArraySlice<UInt8>) -> Int128 {
        guard let first = b.first else { return 0 }
        var v: Int128 = first & 0x80 != 0 ? -1 : 0
        for byte in b { v = v << 8 | Int128(byte) }
        return v
    }

    static func text(_ v: Int128, scale: Int) -> String {
        let digits = String(v.magnitude)
        guard scale > 0 else { return (v < 0 ? "-" : "") + digits + String(repeating: "0", count: max(0, -scale)) }
        let padded = String(repeating: "0", count: max(0, scale + 1 - digits.count)) + digits
        let cut = padded.index(padded.endIndex, offsetBy: -scale)
        return (v < 0 ? "-" : "") + padded[..<cut] + "." + padded[cut...]
    }
}

