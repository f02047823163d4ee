import CHarfBuzz
import Foundation

/// The direct writer met text it does not lay out itself (a glyph the font lacks, right-to-left
/// or mark-positioned text); the pango renderer takes the document instead.
struct NeedsPango: Error {}

/// One font file: HarfBuzz shapes words (each distinct word once: running text repeats its words),
/// the glyphs drawn and the text they stand for are recorded, and a subset is embedded at the end.
final class PDFFont {
    /// A shaped word: glyph ids, their advances in font units, the whole width, and per glyph
    /// how much narrower it is than its nominal advance (kerning; empty when none is).
    /// A class: runs on lines share one shaped word rather than copying three arrays.
    final class Shaped {
        let glyphs: [UInt16]
        let advances: [Int32]
        /// 64-bit: a 2 MiB word of 2M glyphs adds past Int32 (a crash the fault sweep found).
        let width: Int64
        let kerning: [Int32]

        init(glyphs: [UInt16], advances: [Int32], width: Int64, kerning: [Int32] = []) {
            self.glyphs = glyphs
            self.advances = advances
            self.width = width
            self.kerning = kerning
        }

        static let empty = Shaped(glyphs: [], advances: [], width: 0)

        /// Glyphs `range` of this word.
        func slice(_ range: Range<Int>) -> Shaped {
            Shaped(glyphs: Array(glyphs[range]), advances: Array(advances[range]),
                   width: advances[range].reduce(0) { $0 + Int64($1) }, kerning: kerning.isEmpty ? [] : Array(kerning[range]))
        }
    }

    let path: String
    let upem: Double
    /// Above and below the baseline, in ems (hhea/OS/2 as HarfBuzz reports them; descent positive).
    let ascent: Double
    let descent: Double
    let spaceGlyph: UInt16
    let spaceAdvance: Int32
    /// The resource name in page content (`/F3`) and the font's object number once it is used.
    let resource: String
    var objectID = 0
    /// Glyphs drawn → the text each stands for (a ligature stands for several characters).
    private(set) var used: [UInt16: [UInt8]] = [:]
    private var cache: [String: Shaped] = [:]
    private let face: OpaquePointer
    private let font: OpaquePointer
    private let buffer: OpaquePointer

    init?(path: String, resource: String) {
        guard let blob = hb_blob_create_from_file_or_fail(path) else { return nil }
        defer { hb_blob_destroy(blob) }
        guard let face = hb_face_create(blob, 0), hb_face_get_glyph_count(face) > 1 else { return nil }
        self.face = face
        font = hb_font_create(face)
        buffer = hb_buffer_create()
        self.path = path
        self.resource = resource
        upem = Double(hb_face_get_upem(face))
        var extents = hb_font_extents_t()
        hb_font_get_h_extents(font, &extents)
        ascent = Double(extents.ascender) / upem
        descent = Double(-extents.descender) / upem
        var space: hb_codepoint_t = 0
        hb_font_get_nominal_glyph(font, 0x20, &space)
        spaceGlyph = UInt16(truncatingIfNeeded: space)
        spaceAdvance = hb_font_get_glyph_h_advance(font, space)
        used[spaceGlyph] = [0x20]
    }

    deinit {
        hb_buffer_destroy(buffer)
        hb_font_destroy(font)
        hb_face_destroy(face)
    }

    /// The glyphs of one word (no spaces, tabs or newlines in it). Throws `NeedsPango` for text
    /// this writer does not place itself.
    func shape(_ bytes: UnsafeBufferPointer<UInt8>) throws -> Shaped {
        let key = String(decoding: bytes, as: UTF8.self)
        if let hit = cache[key] { return hit }
        hb_buffer_clear_contents(buffer)
        bytes.withMemoryRebound(to: CChar.self) { hb_buffer_add_utf8(buffer, $0.baseAddress, Int32($0.count), 0, Int32($0.count)) }
        hb_buffer_guess_segment_properties(buffer)
        guard hb_buffer_get_direction(buffer) == HB_DIRECTION_LTR else { throw NeedsPango() }
        hb_shape(font, buffer, nil, 0)
        var count: UInt32 = 0
        let infos = hb_buffer_get_glyph_infos(buffer, &count)!
        let positions = hb_buffer_get_glyph_positions(buffer, &count)!
        let n = Int(count)
        var glyphs: [UInt16] = [], advances: [Int32] = [], width: Int64 = 0
        glyphs.reserveCapacity(n)
        advances.reserveCapacity(n)
        var kerning = [Int32](repeating: 0, count: n)
        var kerned = false
        for i in 0..<n {
            let gid = infos[i].codepoint
            guard gid != 0, gid <= 0xFFFF, positions[i].x_offset == 0, positions[i].y_offset == 0 else { throw NeedsPango() }
            let g = UInt16(gid)
            glyphs.append(g)
            advances.append(positions[i].x_advance)
            width += Int64(positions[i].x_advance)
            kerning[i] = hb_font_get_glyph_h_advance(font, gid) - positions[i].x_advance
            if kerning[i] != 0 { kerned = true }
            if used[g] == nil {
                // The text of a glyph's cluster: up to the next glyph's cluster (glyphs are in
                // logical order, the direction being left to right).
                let start = Int(infos[i].cluster)
                var end = bytes.count
                var j = i + 1
                while j < n { if Int(infos[j].cluster) != start { end = Int(infos[j].cluster); break }; j += 1 }
                used[g] = end > start ? Array(bytes[start..<end]) : []
            }
        }
        let shaped = Shaped(glyphs: glyphs, advances: advances, width: width, kerning: kerned ? kerning : [])
        if cache.count > 200_000 { cache.removeAll(keepingCapacity: true) }
        cache[key] = shaped
        return shaped
    }

    /// The advance PDF readers apply to a glyph (the `W` array), in thousandths of an em, to
    /// two decimals so that text placed from HarfBuzz's advances does not drift.
    func pdfWidth(_ glyph: UInt16) -> String {
        let v = (Double(hb_font_get_glyph_h_advance(font, hb_codepoint_t(glyph))) * 100_000 / upem).rounded() / 100
        return v == v.rounded() ? String(Int(v)) : String(v)
    }

    /// The font program with only the glyphs drawn (ids kept, so the content needs no remapping).
    func subset() -> [UInt8]? {
        guard let input = hb_subset_input_create_or_fail() else { return nil }
        defer { hb_subset_input_destroy(input) }
        let glyphs = hb_subset_input_glyph_set(input)
        hb_set_add(glyphs, 0)
        for g in used.keys { hb_set_add(glyphs, hb_codepoint_t(g)) }
        hb_subset_input_set_flags(input, HB_SUBSET_FLAGS_RETAIN_GIDS.rawValue | HB_SUBSET_FLAGS_NO_HINTING.rawValue)
        guard let sub = hb_subset_or_fail(face, input) else { return nil }
        defer { hb_face_destroy(sub) }
        let blob = hb_face_reference_blob(sub)
        defer { hb_blob_destroy(blob) }
        var length: UInt32 = 0
        guard let data = hb_blob_get_data(blob, &length), length > 0 else { return nil }
        return data.withMemoryRebound(to: UInt8.self, capacity: Int(length)) { Array(UnsafeBufferPointer(start: $0, count: Int(length))) }
    }

    /// The PostScript name, bounding box, italic angle and cap height for the font descriptor.
    var descriptor: (name: String, bbox: [Int], italicAngle: Double, capHeight: Int) {
        var buf = [CChar](repeating: 0, count: 128)
        var len = UInt32(buf.count)
        hb_ot_name_get_utf8(face, hb_ot_name_id_t(HB_OT_NAME_ID_POSTSCRIPT_NAME), hb_language_from_string("en", -1), &len, &buf)
        var name = String(cString: buf).filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        if name.isEmpty { name = "Font" }
        func table(_ tag: String) -> [UInt8] {
            let t = tag.utf8.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let blob = hb_face_reference_table(face, t)
            defer { hb_blob_destroy(blob) }
            var n: UInt32 = 0
            guard let p = hb_blob_get_data(blob, &n) else { return [] }
            return p.withMemoryRebound(to: UInt8.self, capacity: Int(n)) { Array(UnsafeBufferPointer(start: $0, count: Int(n))) }
        }
        func s16(_ b: [UInt8], _ i: Int) -> Int { i + 1 < b.count ? Int(Int16(bitPattern: UInt16(b[i]) << 8 | UInt16(b[i + 1]))) : 0 }
        let head = table("head"), post = table("post")
        let scale = 1000 / upem
        let bbox = [s16(head, 36), s16(head, 38), s16(head, 40), s16(head, 42)].map { Int((Double($0) * scale).rounded()) }
        let angle = Double(s16(post, 4)) + Double(post.count > 7 ? (Int(post[6]) << 8 | Int(post[7])) : 0) / 65536
        var cap: hb_position_t = 0
        if hb_ot_metrics_get_position(font, HB_OT_METRICS_TAG_CAP_HEIGHT, &cap) == 0 { cap = hb_position_t(ascent * upem * 0.75) }
        return (name, bbox, angle, Int((Double(cap) * scale).rounded()))
    }

    /// The file fontconfig picks for a family and style, if it really is that family (and bold or
    /// slanted when asked); nil sends the document to pango, which synthesizes what is missing.
    static func locate(family: String, bold: Bool, italic: Bool) -> String? {
        fontconfigLock.lock()
        defer { fontconfigLock.unlock() }
        guard let pattern = FcPatternCreate() else { return nil }
        defer { FcPatternDestroy(pattern) }
        _ = family.withCString { $0.withMemoryRebound(to: FcChar8.self, capacity: family.utf8.count + 1) { FcPatternAddString(pattern, "family", $0) } }
        FcPatternAddInteger(pattern, "weight", bold ? 200 : 80)
        FcPatternAddInteger(pattern, "slant", italic ? 100 : 0)
        FcConfigSubstitute(nil, pattern, FcMatchPattern)
        FcDefaultSubstitute(pattern)
        var result = FcResultNoMatch
        guard let match = FcFontMatch(nil, pattern, &result) else { return nil }
        defer { FcPatternDestroy(match) }
        var file: UnsafeMutablePointer<FcChar8>?
        var matched: UnsafeMutablePointer<FcChar8>?
        var weight: Int32 = 0, slant: Int32 = 0
        guard FcPatternGetString(match, "file", 0, &file) == FcResultMatch, let file,
              FcPatternGetString(match, "family", 0, &matched) == FcResultMatch, let matched,
              String(cString: matched).caseInsensitiveCompare(family) == .orderedSame else { return nil }
        FcPatternGetInteger(match, "weight", 0, &weight)
        FcPatternGetInteger(match, "slant", 0, &slant)
        guard (weight >= 180) == bold, (slant != 0) == italic else { return nil }
        return String(cString: file)
    }

    private static let fontconfigLock = NSLock()
}
