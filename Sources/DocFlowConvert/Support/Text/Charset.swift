import CUchardet
import Foundation

/// Legacy encodings: which one a text that is not UTF-8 is in (uchardet, Mozilla's universal
/// detector as Debian ships it), and its bytes as UTF-8 (glibc's iconv). The one place that calls
/// either library.
enum Charset {
    /// What uchardet learns from; past it the answer rarely changes, and a 200 MB file costs no more.
    static let sample = 1 << 20

    /// The encoding uchardet names for `bytes` (`SHIFT_JIS`, `ISO-8859-7`, `WINDOWS-1252`, …), or nil
    /// when it has no answer. `uchardet_handle_data` returns non-zero only when out of memory.
    static func detect(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard let ud = uchardet_new() else { return nil }
        defer { uchardet_delete(ud) }
        let n = min(bytes.count, sample)
        let failed = bytes.baseAddress.map { base in
            base.withMemoryRebound(to: CChar.self, capacity: n) { uchardet_handle_data(ud, $0, n) != 0 }
        } ?? true
        guard !failed else { return nil }
        uchardet_data_end(ud)
        guard let name = uchardet_get_charset(ud).map({ String(cString: $0) }), !name.isEmpty else { return nil }
        return name
    }

    /// The encoding to decode a detected one with: as browsers do (WHATWG Encoding), a label read
    /// as its Windows superset, so the vendor characters files really hold (Shift JIS's NEC and IBM
    /// kanji, Windows-1252's curly quotes in "ISO-8859-1") convert instead of failing.
    static func superset(_ detected: String) -> String {
        switch detected {
        case "SHIFT_JIS": "CP932"
        case "EUC-KR": "CP949"
        case "GB2312", "GBK": "GB18030"
        case "BIG5": "BIG5-HKSCS"
        case "ISO-8859-1": "WINDOWS-1252"
        case "ISO-8859-9": "WINDOWS-1254"
        case "TIS-620", "ISO-8859-11": "CP874"
        default: detected
        }
    }

    /// `bytes` in `encoding`, as UTF-8, and how many bytes were not valid in it (each became
    /// U+FFFD); nil when iconv does not know the encoding. `iconv_open`, then `iconv` until every
    /// byte is converted: E2BIG grows the output, EILSEQ (a byte the encoding leaves undefined) and
    /// EINVAL (a character cut off at the end) replace one byte and go on.
    static func utf8(_ bytes: UnsafeBufferPointer<UInt8>, from encoding: String) -> (text: [UInt8], invalid: Int)? {
        let cd = iconv_open("UTF-8", encoding)
        guard cd != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(cd) }
        guard let base = bytes.baseAddress else { return ([], 0) }
        var out = [UInt8](repeating: 0, count: max(64, bytes.count * 2))
        var used = 0, invalid = 0
        var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(mutating: base).assumingMemoryBound(to: CChar.self)
        var inLeft = bytes.count
        while inLeft > 0 {
            let (rc, err): (Int, Int32) = out.withUnsafeMutableBufferPointer { o in
                var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(o.baseAddress! + used)
                    .assumingMemoryBound(to: CChar.self)
                var outLeft = o.count - used
                let rc = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                let e = errno
                used = o.count - outLeft
                return (rc, e)
            }
            guard rc == -1 else { continue }
            switch err {
            case E2BIG: out += [UInt8](repeating: 0, count: out.count)
            case EILSEQ, EINVAL:  // iconv may have left fewer than U+FFFD's three bytes free
                if out.count - used < 3 { out += [UInt8](repeating: 0, count: out.count) }
                out.replaceSubrange(used..<used + 3, with: [0xEF, 0xBF, 0xBD])
                used += 3
                inPtr = inPtr! + 1
                inLeft -= 1
                invalid += 1
            default: return nil
            }
        }
        out.removeSubrange(used...)
        return (out, invalid)
    }
}
