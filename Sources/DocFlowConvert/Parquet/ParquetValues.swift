import DocFlowModel

/// PLAIN decoding and the mapping of physical values to the Table hub's values.
extension ColumnChunkReader {
    mutating func plain(_ c: inout ByteCursor, count: Int) throws -> [Value] {
        guard count >= 0 else { throw ParquetEncoding.corrupt("a negative value count") }
        var out: [Value] = []
        out.reserveCapacity(count)
        switch leaf.physical {
        case .boolean:
            let raw = try c.take((count + 7) / 8)
            for i in 0..<count { out.append(.bool(raw[raw.startIndex + i >> 3] >> UInt8(i & 7) & 1 == 1)) }
        case .int32:
            guard c.remaining >= 4 * count else { throw ParquetEncoding.corrupt("INT32 values run past their page") }
            for _ in 0..<count { out.append(integer(Int64(Int32(bitPattern: try c.le32())))) }
        case .int64:
            guard c.remaining >= 8 * count else { throw ParquetEncoding.corrupt("INT64 values run past their page") }
            for _ in 0..<count { out.append(integer(Int64(bitPattern: try c.le64()))) }
        case .int96:
            guard c.remaining >= 12 * count else { throw ParquetEncoding.corrupt("INT96 values run past their page") }
            for _ in 0..<count {
                let nanos = Int64(bitPattern: try c.le64())
                let julian = Int64(Int32(bitPattern: try c.le32()))
                // Day and time of day kept apart: Spark writes dates far outside the ±292 years a
                // nanosecond Int64 spans (pyarrow wraps those unless asked for microseconds).
                let day = julian - 2_440_588 + nanos / 86_400_000_000_000
                var nod = nanos % 86_400_000_000_000
                var d = day
                if nod < 0 { nod += 86_400_000_000_000; d -= 1 }
                let text = CivilTime.dateText(days: d) + "T"
                    + CivilTime.timeText(seconds: nod / 1_000_000_000, fraction: nod % 1_000_000_000, perSecond: 1_000_000_000)
                out.append(.temporal(text))
            }
        case .float:
            guard c.remaining >= 4 * count else { throw ParquetEncoding.corrupt("FLOAT values run past their page") }
            for _ in 0..<count { out.append(floating(Double(Float(bitPattern: try c.le32())))) }
        case .double:
            guard c.remaining >= 8 * count else { throw ParquetEncoding.corrupt("DOUBLE values run past their page") }
            for _ in 0..<count { out.append(floating(Double(bitPattern: try c.le64()))) }
        case .byteArray:
            for _ in 0..<count {
                let n = Int(try c.le32())
                out.append(try bytesValue(c.take(n)))
            }
        case .fixedLenByteArray:
            guard leaf.typeLength > 0 else { throw ParquetEncoding.corrupt("a fixed-length column has no length") }
            guard c.remaining >= leaf.typeLength * count else { throw ParquetEncoding.corrupt("fixed-length values run past their page") }
            for _ in 0..<count { out.append(try bytesValue(c.take(leaf.typeLength))) }
        }
        return out
    }

    /// NaN and infinities have no place in CSV or JSON: they become null, as JSON writers do.
    func floating(_ d: Double) -> Value { d.isFinite ? .double(d) : .null }

    func integer(_ v: Int64) -> Value {
        switch leaf.meaning {
        case .date: return .temporal(CivilTime.dateText(days: v))
        case .timestamp(let per, let utc): return .temporal(CivilTime.timestampText(v, perSecond: per, utc: utc))
        case .timeOfDay(let per):
            let p = per == 1_000 && leaf.physical == .int32 ? 1_000 : per
            return .string(CivilTime.timeText(seconds: v / p, fraction: v % p, perSecond: p))
        case .decimal(let scale): return .string(Decimal128.text(Int128(v), scale: scale))
        case .unsigned:
            if leaf.physical == .int32 { return .int(Int64(UInt32(truncatingIfNeeded: v))) }
            return v >= 0 ? .int(v) : .string(String(UInt64(bitPattern: v)))
        default: return .int(v)
        }
    }

    mutating func bytesValue(_ b: ArraySlice<UInt8>) throws -> Value {
        switch leaf.meaning {
        case .decimal(let scale):
            guard b.count <= 16 else {
                throw ConversionError(.unsupportedConversion, "The Parquet column “\(leaf.name)” holds decimals wider than 128 bits.")
            }
            return .string(Decimal128.text(Decimal128.bigEndian(b), scale: scale))
        case .uuid where b.count == 16:
            let hex = b.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
            let h = Array(hex)
            return .string(String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(h[16..<20]) + "-" + String(h[20...]))
        case .float16 where b.count == 2:
            let bits = UInt16(b[b.startIndex]) | UInt16(b[b.startIndex + 1]) << 8
            return floating(Double(Float(Float16Bits.decode(bits))))
        default:
            if let s = String(validating: b, as: UTF8.self) { return .string(s) }
            sawBinary = true
            return .string(Base64.encode(b))
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

/// IEEE half precision, for Parquet's FLOAT16 logical type.
enum Float16Bits {
    static func decode(_ h: UInt16) -> Float {
        let sign: Float = h & 0x8000 != 0 ? -1 : 1
        let exp = Int(h >> 10 & 0x1F)
        let frac = Float(h & 0x3FF)
        if exp == 0 { return sign * frac * Float(pow2: -24) }
        if exp == 31 { return frac == 0 ? sign * .infinity : .nan }
        return sign * (1 + frac / 1024) * Float(pow2: exp - 15)
    }
}

private extension Float {
    init(pow2 e: Int) { self = Float(sign: .plus, exponent: e, significand: 1) }
}

/// Standard base64, for binary values in text outputs.
enum Base64 {
    static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        let b = Array(bytes)
        var i = 0
        while i + 2 < b.count {
            let v = UInt32(b[i]) << 16 | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2])
            out += [table[Int(v >> 18)], table[Int(v >> 12 & 63)], table[Int(v >> 6 & 63)], table[Int(v & 63)]]
            i += 3
        }
        if i + 1 == b.count {
            let v = UInt32(b[i]) << 16
            out += [table[Int(v >> 18)], table[Int(v >> 12 & 63)], 0x3D, 0x3D]
        } else if i + 2 == b.count {
            let v = UInt32(b[i]) << 16 | UInt32(b[i + 1]) << 8
            out += [table[Int(v >> 18)], table[Int(v >> 12 & 63)], table[Int(v >> 6 & 63)], 0x3D]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
