import DocFlowCore
import DocFlowModel

/// Cells as JSON, for the JSON writer and for nested values rebuilt by readers.
extension CellText {
    /// Value `r` of a column as JSON: typed scalars, ISO 8601 strings for dates and timestamps,
    /// nested values as the JSON text they hold, binary as a base64 string, NaN and the
    /// infinities as null (the writer warns).
    @inline(__always)
    static func appendJSON<C: ColumnCells>(_ col: C, _ r: Int, to out: inout [UInt8]) {
        if col.isNull(r) { CellText.append("null", to: &out); return }
        switch col.type {
        case .int64: CellText.appendInt(col.int(at: r), to: &out)
        case .double:
            if col.double(at: r).isFinite { CellText.appendDouble(col.double(at: r), to: &out) } else { CellText.append("null", to: &out) }
        case .boolean: CellText.append(col.bool(at: r) ? "true" : "false", to: &out)
        case .date:
            out.append(0x22); CellText.appendDate(days: Int64(col.day(at: r)), to: &out); out.append(0x22)
        case .timestamp:
            out.append(0x22)
            CellText.appendTimestamp(col.int(at: r), perSecond: col.perSecond, utc: col.utc, to: &out)
            out.append(0x22)
        case .string: col.withUTF8(at: r) { JSONText.appendQuoted($0, to: &out) }
        case .json: col.withUTF8(at: r) { out.append(contentsOf: $0) }
        case .binary: out.append(0x22); col.withUTF8(at: r) { Base64.append($0, to: &out) }; out.append(0x22)
        }
    }
}

private let hexDigits = Array("0123456789abcdef".utf8)

extension JSONText {
    /// A JSON string literal of UTF-8 bytes, escaped as `quoted` escapes a String.
    static func appendQuoted<C: Collection>(_ u: C, to out: inout [UInt8]) where C.Element == UInt8 {
        out.append(0x22)
        // Most strings need no escape: one copy instead of a byte at a time.
        if !u.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            out.append(contentsOf: u)
            out.append(0x22)
            return
        }
        for b in u {
            switch b {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(0x6E)
            case 0x0D: out.append(0x5C); out.append(0x72)
            case 0x09: out.append(0x5C); out.append(0x74)
            case 0..<0x20: out += [0x5C, 0x75, 0x30, 0x30, hexDigits[Int(b >> 4)], hexDigits[Int(b & 15)]]
            default: out.append(b)
            }
        }
        out.append(0x22)
    }
}
