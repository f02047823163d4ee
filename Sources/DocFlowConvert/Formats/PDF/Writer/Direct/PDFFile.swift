import CHarfBuzz
import Foundation

/// A PDF 1.7 file written object by object (ISO 32000-1 §7.5): objects are numbered when reserved,
/// written in any order, and the cross-reference table lists where each one starts.
final class PDFFile {
    private(set) var out: [UInt8] = Array("%PDF-1.7\n%\u{E2}\u{E3}\u{CF}\u{D3}\n".utf8)
    private var offsets: [Int] = [0]

    init() { out.reserveCapacity(1 << 20) }

    func reserve() -> Int {
        offsets.append(-1)
        return offsets.count - 1
    }

    func object(_ id: Int, _ body: String) {
        offsets[id] = out.count
        out += "\(id) 0 obj\n".utf8
        out += body.utf8
        out += "\nendobj\n".utf8
    }

    /// A stream object; `deflated` says the data is already zlib-compressed.
    func stream(_ id: Int, _ dict: String, _ data: [UInt8], deflated: Bool) {
        offsets[id] = out.count
        out += "\(id) 0 obj\n<< \(dict) /Length \(data.count)\(deflated ? " /Filter /FlateDecode" : "") >>\nstream\n".utf8
        out += data
        out += "\nendstream\nendobj\n".utf8
    }

    func finish(root: Int, info: Int) -> [UInt8] {
        let xref = out.count
        out += "xref\n0 \(offsets.count)\n0000000000 65535 f \n".utf8
        for offset in offsets.dropFirst() {
            var digits = Array(String(max(offset, 0)).utf8)
            digits.insert(contentsOf: [UInt8](repeating: 0x30, count: 10 - digits.count), at: 0)
            out += digits
            out += (offset >= 0 ? " 00000 n \n" : " 00000 f \n").utf8
        }
        out += "trailer\n<< /Size \(offsets.count) /Root \(root) 0 R /Info \(info) 0 R >>\nstartxref\n\(xref)\n%%EOF\n".utf8
        return out
    }

    /// zlib data (FlateDecode) with libdeflate; one compressor per call, so calls run in parallel.
    static func deflate(_ data: [UInt8], level: Int32 = 6) -> [UInt8] {
        guard let c = libdeflate_alloc_compressor(level) else { return data }
        defer { libdeflate_free_compressor(c) }
        let bound = libdeflate_zlib_compress_bound(c, data.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = data.withUnsafeBytes { src in out.withUnsafeMutableBytes { libdeflate_zlib_compress(c, src.baseAddress, data.count, $0.baseAddress, bound) } }
        out.removeLast(bound - n)
        return out
    }

    /// A PDF text string: literal when printable ASCII, else UTF-16BE with a byte order mark.
    static func text(_ s: String) -> String {
        if s.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) {
            return "(" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "(", with: "\\(")
                .replacingOccurrences(of: ")", with: "\\)") + ")"
        }
        var hex = "<FEFF"
        for unit in s.utf16 { hex += hex4(unit) }
        return hex + ">"
    }

    static func hex4(_ v: UInt16) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(v >> 12)], digits[Int(v >> 8 & 15)], digits[Int(v >> 4 & 15)], digits[Int(v & 15)]])
    }

    /// A font as a Type 0 composite font over a CIDFontType2 (TrueType) descendant, glyph ids as
    /// character codes (Identity-H), the subset program embedded, widths, and a ToUnicode map so
    /// text copies and searches as the text it came from.
    func embed(_ font: PDFFont, tag: String) {
        let d = font.descriptor
        let name = "\(tag)+\(d.name)"
        let glyphs = font.used.keys.sorted()
        let program = font.subset()
        let fileID = reserve(), descriptorID = reserve(), cidID = reserve(), mapID = reserve()
        if let program { stream(fileID, "/Length1 \(program.count)", PDFFile.deflate(program), deflated: true) }
        let flags = 4 | (d.italicAngle != 0 ? 64 : 0)
        object(descriptorID, "<< /Type /FontDescriptor /FontName /\(name) /Flags \(flags) /FontBBox [\(d.bbox.map(String.init).joined(separator: " "))] "
            + "/ItalicAngle \(d.italicAngle) /Ascent \(Int(font.ascent * 1000)) /Descent \(-Int(font.descent * 1000)) "
            + "/CapHeight \(d.capHeight) /StemV 80\(program != nil ? " /FontFile2 \(fileID) 0 R" : "") >>")
        var widths = "", i = 0
        while i < glyphs.count {  // runs of consecutive glyph ids: first [w1 w2 …]
            var j = i
            while j + 1 < glyphs.count && glyphs[j + 1] == glyphs[j] + 1 && j - i < 200 { j += 1 }
            widths += "\(glyphs[i]) [" + glyphs[i...j].map(font.pdfWidth).joined(separator: " ") + "] "
            i = j + 1
        }
        object(cidID, "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /\(name) /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
            + "/FontDescriptor \(descriptorID) 0 R /CIDToGIDMap /Identity /W [\(widths)] >>")
        var cmap = "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            + "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        let mapped = glyphs.compactMap { g -> (UInt16, String)? in
            guard let bytes = font.used[g], !bytes.isEmpty else { return nil }
            return (g, String(decoding: bytes, as: UTF8.self).utf16.map(PDFFile.hex4).joined())
        }
        for chunk in stride(from: 0, to: mapped.count, by: 100) {
            let part = mapped[chunk..<min(chunk + 100, mapped.count)]
            cmap += "\(part.count) beginbfchar\n" + part.map { "<\(PDFFile.hex4($0.0))> <\($0.1)>" }.joined(separator: "\n") + "\nendbfchar\n"
        }
        cmap += "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
        stream(mapID, "", PDFFile.deflate(Array(cmap.utf8)), deflated: true)
        object(font.objectID, "<< /Type /Font /Subtype /Type0 /BaseFont /\(name) /Encoding /Identity-H "
            + "/DescendantFonts [\(cidID) 0 R] /ToUnicode \(mapID) 0 R >>")
    }
}

/// Page content operators (ISO 32000-1 §8, §9.4) appended to a byte buffer, numbers written
/// without going through String formatting (a page has thousands of them).
struct PDFContent {
    var bytes: [UInt8] = []
    /// Graphics state already set on the page (colours and text font persist across text
    /// objects until a `Q` restores an earlier state), so each is written only when it changes.
    private var fillColor: RGB?
    private var strokeColor: RGB?
    private var font: (ObjectIdentifier, Double)?

    init() { bytes.reserveCapacity(8192) }

    mutating func op(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(0x0A)
    }

    mutating func raw(_ s: String) { bytes += s.utf8 }

    /// A number with at most two decimals and a trailing space.
    mutating func num(_ v: Double) {
        var x = Int((v * 100).rounded())
        if x < 0 { bytes.append(0x2D); x = -x }
        CellText.appendInt(Int64(x / 100), to: &bytes)
        let f = x % 100
        if f != 0 {
            bytes.append(0x2E)
            bytes.append(0x30 + UInt8(f / 10))
            if f % 10 != 0 { bytes.append(0x30 + UInt8(f % 10)) }
        }
        bytes.append(0x20)
    }

    mutating func color(_ c: RGB, stroke: Bool = false) {
        if stroke ? strokeColor == c : fillColor == c { return }
        if stroke { strokeColor = c } else { fillColor = c }
        num(c.r); num(c.g); num(c.b)
        op(stroke ? "RG" : "rg")
    }

    /// `q`: saves the state; `restore()` writes `Q` and forgets what was set after the `q`.
    mutating func save() { op("q") }

    mutating func restore() {
        op("Q")
        fillColor = nil
        strokeColor = nil
        font = nil
    }

    /// Sets the text font (inside a text object) when it changes.
    mutating func font(_ f: PDFFont, _ size: Double) {
        if let current = font, current.0 == ObjectIdentifier(f), current.1 == size { return }
        font = (ObjectIdentifier(f), size)
        bytes.append(0x2F)
        bytes += f.resource.utf8
        bytes.append(0x20)
        num(size)
        op("Tf")
    }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double) {
        num(x); num(y); num(w); num(h)
        op("re")
    }

    /// A filled rectangle; `y` is its lower edge in PDF space.
    mutating func fill(_ c: RGB, _ x: Double, _ y: Double, _ w: Double, _ h: Double) {
        color(c)
        rect(x, y, w, h)
        op("f")
    }

    private static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    mutating func glyph(_ g: UInt16) {
        bytes.append(PDFContent.hex[Int(g >> 12)])
        bytes.append(PDFContent.hex[Int(g >> 8 & 15)])
        bytes.append(PDFContent.hex[Int(g >> 4 & 15)])
        bytes.append(PDFContent.hex[Int(g & 15)])
    }
}
