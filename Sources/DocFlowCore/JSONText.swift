/// JSON text helpers shared by the writers, the store's binds and the log lines.
public enum JSONText {
    /// `s` as a JSON string literal (RFC 8259 escapes; `/` left alone). `escapingNonASCII`: every
    /// character past ASCII as `\uXXXX` (UTF-16 units), as Python's `json.dumps` writes it.
    public static func quoted(_ s: String) -> String { quoted(s, escapingNonASCII: false) }

    public static func quoted(_ s: String, escapingNonASCII: Bool) -> String {
        // Fast path: nothing to escape (the usual case for ids, paths and most text).
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || (escapingNonASCII && $0 > 0x7E) }) { return "\"" + s + "\"" }
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || (escapingNonASCII && scalar.value > 0x7E):
                for unit in String(scalar).utf16 {
                    let hex = String(unit, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
