import CLibZip
import DocFlowModel
import Foundation

/// Doubles that need 17 significant digits, kept exact in XLSX. libxlsxwriter 1.1.4 (Debian 12)
/// prints every number with `%.16G`, which changes such a double (10.196776096656958 becomes
/// 10.19677609665696). Those cells are written as inline strings holding a marker — a token
/// fresh for each workbook — and the number's shortest text; once the workbook is closed, each
/// sheet that has any is streamed through `rewrite`, which turns every marked cell into a number
/// cell with that text, and put back with libzip (`zip_file_replace`).
struct ExactNumbers {
    /// `_x0001_` (how libxlsxwriter writes U+0001) and a random token: no cell text a user
    /// wrote can hold it by chance.
    let marker: String
    /// Sheets (1-based, as `xl/worksheets/sheetN.xml`) with marked cells.
    private(set) var sheets = Set<Int>()

    init() { marker = "\u{1}" + UUID().uuidString.replacingOccurrences(of: "-", with: "") + ":" }

    /// Whether the shortest text of `d` has at most 16 significant digits, so that `%.16G`
    /// reads back as `d` and libxlsxwriter writes it exactly. Counted on Swift's shortest text.
    static func fitsSixteenDigits(_ d: Double) -> Bool {
        var count = 0, zeros = 0, leading = true
        for c in d.description.utf8 {
            if c == 0x65 || c == 0x45 { break }  // the exponent
            guard c >= 0x30 && c <= 0x39 else { continue }
            if leading && c == 0x30 { continue }
            leading = false
            count += 1
            zeros = c == 0x30 ? zeros + 1 : 0
        }
        return count - zeros <= 16
    }

    /// The marked text for `d` on sheet `sheet`.
    mutating func text(_ d: Double, sheet: Int) -> String {
        sheets.insert(sheet)
        return marker + d.description
    }

    /// Rewrites the marked cells of the workbook at `path` in place.
    func apply(to path: String) throws {
        guard !sheets.isEmpty else { return }
        var err: Int32 = 0
        guard let za = zip_open(path, 0, &err) else { throw ConversionError(.internal, "The Excel workbook could not be reopened.") }
        var replaced: [String] = []
        defer { for t in replaced { unlink(t) } }
        let pattern = Array((" t=\"inlineStr\"><is><t>_x0001_" + marker.dropFirst()).utf8)
        for n in sheets.sorted() {
            let name = "xl/worksheets/sheet\(n).xml"
            let index = zip_name_locate(za, name, 0)
            guard index >= 0, let file = zip_fopen_index(za, zip_uint64_t(index), 0) else { continue }
            let tmp = path + ".sheet\(n)"
            guard let out = fopen(tmp, "wb") else { zip_fclose(file); zip_discard(za); throw ConversionError(.internal, "The Excel workbook could not be rewritten.") }
            var rewriter = Rewriter(pattern: pattern)
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            var ok = true
            while true {
                let got = chunk.withUnsafeMutableBytes { zip_fread(file, $0.baseAddress, zip_uint64_t($0.count)) }
                if got < 0 { ok = false; break }
                if got == 0 { break }
                let bytes = rewriter.feed(chunk[0..<Int(got)])
                if !bytes.isEmpty && fwrite(bytes, 1, bytes.count, out) != bytes.count { ok = false; break }
            }
            let tail = rewriter.finish()
            if ok && !tail.isEmpty && fwrite(tail, 1, tail.count, out) != tail.count { ok = false }
            zip_fclose(file)
            if fclose(out) != 0 { ok = false }
            replaced.append(tmp)
            guard ok, let source = zip_source_file_create(tmp, 0, -1, nil) else {
                zip_discard(za)
                throw ConversionError(.internal, "The Excel workbook could not be rewritten.")
            }
            if zip_file_replace(za, zip_uint64_t(index), source, 0) != 0 {
                zip_source_free(source)
                zip_discard(za)
                throw ConversionError(.internal, "The Excel workbook could not be rewritten.")
            }
        }
        guard zip_close(za) == 0 else {
            zip_discard(za)
            throw ConversionError(.internal, "The Excel workbook could not be rewritten.")
        }
    }

    /// Streams sheet XML, turning `<c r="A1" t="inlineStr"><is><t>MARKERnumber</t></is></c>`
    /// into `<c r="A1"><v>number</v></c>`. Bytes that might start the pattern at the end of a
    /// chunk are held until the next one.
    struct Rewriter {
        let pattern: [UInt8]
        private var pending: [UInt8] = []
        private var inNumber = false
        private static let close = Array("</t></is>".utf8)

        init(pattern: [UInt8]) { self.pattern = pattern }

        mutating func feed(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
            pending += bytes
            var out: [UInt8] = []
            out.reserveCapacity(pending.count)
            var i = 0
            let n = pending.count
            while i < n {
                if inNumber {
                    // The number's text runs to the next '<' (the closing </t></is>).
                    guard let lt = pending[i...].firstIndex(of: 0x3C) else { out += pending[i...]; i = n; break }
                    out += pending[i..<lt]
                    guard n - lt >= Self.close.count else { i = lt; break }  // wait for the rest
                    out += Array("</v>".utf8)
                    i = lt + Self.close.count
                    inNumber = false
                    continue
                }
                guard let start = pending[i...].firstIndex(of: pattern[0]) else { out += pending[i...]; i = n; break }
                out += pending[i..<start]
                if n - start < pattern.count {
                    // Maybe the pattern, cut by the chunk's end: keep it if it matches so far.
                    if pending[start...].elementsEqual(pattern.prefix(n - start)) { i = start; break }
                    out.append(pending[start]); i = start + 1; continue
                }
                if pending[start..<(start + pattern.count)].elementsEqual(pattern) {
                    out += Array("><v>".utf8)
                    i = start + pattern.count
                    inNumber = true
                } else {
                    out.append(pending[start]); i = start + 1
                }
            }
            pending = i < n ? Array(pending[i...]) : []
            return out
        }

        mutating func finish() -> [UInt8] {
            defer { pending = [] }
            return pending
        }
    }
}
