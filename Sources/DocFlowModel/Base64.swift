/// Standard base64 (RFC 4648 §4, padded): the one encoding of binary column values in text
/// outputs (CSV, JSON, XLSX), so a column reads the same in every row and every format.
public enum Base64 {
    @usableFromInline static let table: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out: [UInt8] = []
        append(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the encoding of `bytes` to `out` (the writers' hot path: no String in between).
    public static func append<C: Collection>(_ bytes: C, to out: inout [UInt8]) where C.Element == UInt8 {
        out.reserveCapacity(out.count + (bytes.count + 2) / 3 * 4)
        table.withUnsafeBufferPointer { t in
            var it = bytes.makeIterator()
            while let a = it.next() {
                let b = it.next(), c = b == nil ? nil : it.next()
                let v = UInt32(a) << 16 | UInt32(b ?? 0) << 8 | UInt32(c ?? 0)
                out.append(t[Int(v >> 18)])
                out.append(t[Int(v >> 12 & 63)])
                out.append(b == nil ? 0x3D : t[Int(v >> 6 & 63)])
                out.append(c == nil ? 0x3D : t[Int(v & 63)])
            }
        }
    }
}
