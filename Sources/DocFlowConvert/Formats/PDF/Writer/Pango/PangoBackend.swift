import CPangoCairo
import DocFlowModel

/// Receives the bytes cairo's PDF surface writes.
private final class PDFSink {
    var bytes: [UInt8] = []
}

private let sinkWrite: cairo_write_func_t = { closure, data, length in
    let sink = Unmanaged<PDFSink>.fromOpaque(closure!).takeUnretainedValue()
    sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
    return CAIRO_STATUS_SUCCESS
}

/// `PANGO_GLYPH_UNKNOWN_FLAG` and `PANGO_GLYPH_EMPTY` (pango-font.h; macros with casts, which
/// Swift does not import).
private let unknownGlyphFlag: UInt32 = 0x1000_0000
private let emptyGlyph: UInt32 = 0x0FFF_FFFF

/// Pango units per point.
let pangoUnit = Double(PANGO_SCALE)

/// Draws `PageFlow`'s pages with cairo's PDF surface and pango's layouts: fontconfig's font
/// fallback, bidi and full shaping, for the text the direct backend does not place. One backend
/// per conversion; not thread-safe.
final class PangoBackend: PageBackend {
    let options: PDFOptions
    private let sink = PDFSink()
    private let surface: OpaquePointer
    let cr: OpaquePointer
    private let pango: OpaquePointer
    private var fonts: [String: OpaquePointer] = [:]
    private var outlineIDs: [(level: Int, id: Int32)] = []

    private let context: ConversionContext
    /// Characters no installed font has a glyph for (pango draws them as hex boxes), with how
    /// often each occurs in the text laid out; each distinct text is counted once.
    private var missing: [UInt32: Int] = [:]
    private var counted = Set<String>()

    init(options: PDFOptions, context: ConversionContext) throws {
        self.options = options
        self.context = context
        guard let s = cairo_pdf_surface_create_for_stream(sinkWrite, Unmanaged.passUnretained(sink).toOpaque(),
                                                         options.pageWidth, options.pageHeight),
              cairo_surface_status(s) == CAIRO_STATUS_SUCCESS else {
            throw ConversionError(.internal, "The PDF writer could not start.")
        }
        surface = s
        cr = cairo_create(s)
        pango = pango_cairo_create_context(cr)
        // Points are the surface's unit: lay fonts out at 72 dpi with unhinted metrics, as print does.
        pango_cairo_context_set_resolution(pango, 72)
        let fo = cairo_font_options_create()
        cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF)
        cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE)
        pango_cairo_context_set_font_options(pango, fo)
        cairo_font_options_destroy(fo)
    }

    deinit {
        for f in fonts.values { pango_font_description_free(f) }
        g_object_unref(UnsafeMutableRawPointer(pango))
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    func finish(_ metadata: Metadata) throws -> [UInt8] {
        if !missing.isEmpty {
            let total = missing.values.reduce(0, +)
            let shown = missing.keys.sorted().prefix(5).map { "U+" + String($0, radix: 16, uppercase: true).leftPadded(4) }
            context.warn("\(total) character(s) have no glyph in the installed fonts and are drawn as boxes (\(shown.joined(separator: ", "))\(missing.count > 5 ? ", …" : "")).")
        }
        if let t = metadata.title { cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, RichText.printable(t)) }
        if let a = metadata.author { cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, RichText.printable(a)) }
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Doc Flow")
        cairo_surface_finish(surface)
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            throw ConversionError(.internal, "The PDF writer failed: \(String(cString: cairo_status_to_string(cairo_surface_status(surface))))")
        }
        return sink.bytes
    }

    // MARK: pages

    func beginPage(_ number: Int) {}

    func endPage(_ number: Int) { cairo_show_page(cr) }

    func outline(level: Int, title: String, page: Int, y: Double) {
        while let last = outlineIDs.last, last.level >= level { outlineIDs.removeLast() }
        let parent = outlineIDs.last?.id ?? Int32(CAIRO_PDF_OUTLINE_ROOT)
        let dest = "page=\(page) pos=[\(fmt(options.margin)) \(fmt(y))]"
        let id = cairo_pdf_surface_add_outline(surface, parent, title, dest, cairo_pdf_outline_flags_t(rawValue: 0))
        outlineIDs.append((level, id))
    }

    // MARK: text

    /// A pango layout and its lines' metrics (the layout is freed with it).
    final class Lines: LaidOutLines {
        let layout: OpaquePointer
        let lines: [UnsafeMutablePointer<PangoLayoutLine>]
        let heights: [Double], ascents: [Double], offsets: [Double]
        let width: Double

        init(_ layout: OpaquePointer) {
            self.layout = layout
            var lines: [UnsafeMutablePointer<PangoLayoutLine>] = [], heights: [Double] = [], ascents: [Double] = [], offsets: [Double] = []
            let iter = pango_layout_get_iter(layout)!
            repeat {
                var logical = PangoRectangle()
                pango_layout_iter_get_line_extents(iter, nil, &logical)
                lines.append(pango_layout_iter_get_line_readonly(iter)!)
                heights.append(Double(logical.height) / pangoUnit)
                ascents.append((Double(pango_layout_iter_get_baseline(iter)) - Double(logical.y)) / pangoUnit)
                offsets.append(Double(logical.x) / pangoUnit)
            } while pango_layout_iter_next_line(iter) != 0
            pango_layout_iter_free(iter)
            var ext = PangoRectangle()
            pango_layout_get_extents(layout, nil, &ext)
            (self.lines, self.heights, self.ascents, self.offsets) = (lines, heights, ascents, offsets)
            width = Double(ext.width) / pangoUnit
        }

        deinit { g_object_unref(UnsafeMutableRawPointer(layout)) }

        var lineCount: Int { lines.count }
        func height(_ i: Int) -> Double { heights[i] }
        func ascent(_ i: Int) -> Double { ascents[i] }
    }

    func layOut(_ rich: RichText, _ style: TextStyle, width: Double?, alignment: Alignment) -> Lines {
        let f: OpaquePointer
        switch style {
        case .body: f = font(options.bodyFamily, options.bodySize)
        case .heading(let level): f = font(PageDesign.headingFamily(options), PageDesign.headingSize(level), bold: true)
        case .code: f = font(options.monoFamily, options.bodySize - 1.5)
        case .cell: f = font(options.bodyFamily, options.bodySize - 1)
        case .headerCell: f = font(options.bodyFamily, options.bodySize - 1, bold: true)
        case .pageNumber: f = font(options.bodyFamily, 8.5)
        case .altText: f = font(options.bodyFamily, options.bodySize, italic: true)
        }
        return Lines(layout(rich, font: f, width: width, alignment: alignment))
    }

    func drawLine(_ lines: Lines, _ i: Int, x: Double, baseline: Double, links: [TextLink], color: RGB?) {
        set(color ?? .text)
        cairo_move_to(cr, x + lines.offsets[i], baseline)
        pango_cairo_show_layout_line(cr, lines.lines[i])
        if !links.isEmpty { linkAreas(lines.lines[i], originX: x, top: baseline - lines.ascents[i], height: lines.heights[i], links: links) }
    }

    private func font(_ family: String, _ size: Double, bold: Bool = false, italic: Bool = false) -> OpaquePointer {
        let key = "\(family)|\(size)|\(bold)|\(italic)"
        if let f = fonts[key] { return f }
        let f = pango_font_description_new()!
        pango_font_description_set_family(f, family)
        pango_font_description_set_size(f, Int32(size * pangoUnit))
        if bold { pango_font_description_set_weight(f, PANGO_WEIGHT_BOLD) }
        if italic { pango_font_description_set_style(f, PANGO_STYLE_ITALIC) }
        fonts[key] = f
        return f
    }

    /// A pango layout of rich text; `width` nil means no wrapping.
    private func layout(_ rich: RichText, font: OpaquePointer, width: Double?, alignment: Alignment) -> OpaquePointer {
        let l = pango_layout_new(pango)!
        pango_layout_set_font_description(l, font)
        if let w = width {
            pango_layout_set_width(l, Int32(max(w, 10) * pangoUnit))
            pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR)
        }
        switch alignment {
        case .right: pango_layout_set_alignment(l, PANGO_ALIGN_RIGHT)
        case .center: pango_layout_set_alignment(l, PANGO_ALIGN_CENTER)
        default: break
        }
        pango_layout_set_text(l, rich.text, Int32(rich.text.utf8.count))
        let list = pango_attr_list_new()!
        // A word broken at the line end gets no inserted hyphen: copied text stays the text.
        pango_attr_list_insert(list, pango_attr_insert_hyphens_new(0))
        for span in rich.spans {
            for attr in attributes(span.style) {
                attr.pointee.start_index = UInt32(span.start)
                attr.pointee.end_index = UInt32(span.end)
                pango_attr_list_insert(list, attr)
            }
        }
        pango_layout_set_attributes(l, list)
        pango_attr_list_unref(list)
        if counted.insert(rich.text).inserted { countMissingGlyphs(l) }
        return l
    }

    /// Counts the glyphs pango marks unknown (`PANGO_GLYPH_UNKNOWN_FLAG`, the character's code
    /// point in the low bits): no font fontconfig offers covers them.
    private func countMissingGlyphs(_ layout: OpaquePointer) {
        guard let iter = pango_layout_get_iter(layout) else { return }
        defer { pango_layout_iter_free(iter) }
        repeat {
            guard let run = pango_layout_iter_get_run_readonly(iter), let glyphs = run.pointee.glyphs else { continue }
            for i in 0..<Int(glyphs.pointee.num_glyphs) {
                let g = glyphs.pointee.glyphs[i].glyph
                if g & unknownGlyphFlag != 0 && g != emptyGlyph {
                    let cp = g & ~unknownGlyphFlag
                    if cp >= 0x20 && cp != 0x2028 && cp != 0x2029 { missing[cp, default: 0] += 1 }
                }
            }
        } while pango_layout_iter_next_run(iter) != 0
    }

    private func attributes(_ style: RichText.Style) -> [UnsafeMutablePointer<PangoAttribute>] {
        switch style {
        case .bold: return [pango_attr_weight_new(PANGO_WEIGHT_BOLD)]
        case .italic: return [pango_attr_style_new(PANGO_STYLE_ITALIC)]
        case .strike: return [pango_attr_strikethrough_new(1)]
        case .underline: return [pango_attr_underline_new(PANGO_UNDERLINE_SINGLE)]
        case .mono: return [pango_attr_family_new(options.monoFamily), pango_attr_background_new(0xEEEE, 0xEEEE, 0xEEEE)]
        case .link: return [pango_attr_foreground_new(0x0C0C, 0x4D4D, 0xB3B3), pango_attr_underline_new(PANGO_UNDERLINE_SINGLE)]
        }
    }

    /// Link annotations over the parts of `line` that carry a link.
    private func linkAreas(_ line: UnsafeMutablePointer<PangoLayoutLine>, originX: Double, top: Double, height: Double, links: [TextLink]) {
        let ls = Int(line.pointee.start_index), le = ls + Int(line.pointee.length)
        for link in links where link.start < le && link.end > ls {
            var ranges: UnsafeMutablePointer<Int32>?
            var n: Int32 = 0
            pango_layout_line_get_x_ranges(line, Int32(max(link.start, ls)), Int32(min(link.end, le)), &ranges, &n)
            guard let r = ranges else { continue }
            for i in 0..<Int(n) {
                let x0 = originX + Double(r[2 * i]) / pangoUnit, x1 = originX + Double(r[2 * i + 1]) / pangoUnit
                guard x1 > x0 else { continue }
                let uri = link.uri.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
                let attrs = "rect=[\(fmt(x0)) \(fmt(top)) \(fmt(x1 - x0)) \(fmt(height))] uri='\(uri)'"
                cairo_tag_begin(cr, CAIRO_TAG_LINK, attrs)
                cairo_tag_end(cr, CAIRO_TAG_LINK)
            }
            g_free(r)
        }
    }

    // MARK: shapes

    private func set(_ c: RGB) { cairo_set_source_rgb(cr, c.r, c.g, c.b) }

    func fill(_ color: RGB, x: Double, top: Double, width: Double, height: Double) {
        set(color)
        cairo_rectangle(cr, x, top, width, height)
        cairo_fill(cr)
    }

    func stroke(_ color: RGB, lineWidth: Double, rects: [(x: Double, top: Double, width: Double, height: Double)]) {
        set(color)
        cairo_set_line_width(cr, lineWidth)
        for r in rects { cairo_rectangle(cr, r.x, r.top, r.width, r.height) }
        cairo_stroke(cr)
    }

    func rule(_ color: RGB, lineWidth: Double, from x0: Double, to x1: Double, at y: Double) {
        set(color)
        cairo_set_line_width(cr, lineWidth)
        cairo_move_to(cr, x0, y)
        cairo_line_to(cr, x1, y)
        cairo_stroke(cr)
    }

    func clipped(x: Double, top: Double, width: Double, height: Double, _ body: () throws -> Void) rethrows {
        cairo_save(cr)
        cairo_rectangle(cr, x, top, width, height)
        cairo_clip(cr)
        defer { cairo_restore(cr) }
        try body()
    }

    private func fmt(_ v: Double) -> String { String(Double(Int(v * 100)) / 100) }
}

private extension String {
    func leftPadded(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
