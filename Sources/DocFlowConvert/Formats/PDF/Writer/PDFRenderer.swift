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

/// Pango units per point.
let pangoUnit = Double(PANGO_SCALE)

/// Lays a `Document` out on pages. One renderer per conversion; not thread-safe.
final class PDFRenderer {
    let options: PDFOptions
    let context: ConversionContext
    private let sink = PDFSink()
    private let surface: OpaquePointer
    let cr: OpaquePointer
    private let pango: OpaquePointer
    private var fonts: [String: OpaquePointer] = [:]

    var page = 0
    private var pageOpen = false
    var y = 0.0
    var top: Double { options.margin }
    var bottom: Double { options.pageHeight - options.margin }
    private var quoteBars: [Double] = []
    private var pendingMarker: (layout: OpaquePointer, x: Double)?
    private var outline: [(level: Int, id: Int32)] = []
    private var listDepth = 0
    var images = 0
    var cutRows = 0
    var embedded = 0

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

    func render(_ doc: Document) throws -> [UInt8] {
        if let t = doc.metadata.title { cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, RichText.printable(t)) }
        if let a = doc.metadata.author { cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, RichText.printable(a)) }
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Doc Flow")

        beginPage()
        let total = max(1, doc.blocks.count)
        for (i, block) in doc.blocks.enumerated() {
            self.block(block, x: options.margin, width: options.pageWidth - 2 * options.margin, tight: false)
            if i % 64 == 0 { context.progress(60 + 39 * i / total, "writing PDF page \(page)") }
        }
        endPage()
        cairo_surface_finish(surface)
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            throw ConversionError(.internal, "The PDF writer failed: \(String(cString: cairo_status_to_string(cairo_surface_status(surface))))")
        }
        if images > 0 { context.warn("\(images) linked image(s) are not fetched for PDF output (Doc Flow makes no network requests); their alt text is shown.") }
        if cutRows > 0 { context.warn("\(cutRows) table row(s) taller than a page were cut at the page end.") }
        context.report("page_count", .number(page))
        if embedded > 0 { context.report("images_embedded", .number(embedded)) }
        return sink.bytes
    }

    // MARK: pages

    private func beginPage() {
        page += 1
        pageOpen = true
        y = top
    }

    private func endPage() {
        guard pageOpen else { return }
        let number = layout(RichText(text: String(page)), font: font(options.bodyFamily, 8.5), width: nil)
        defer { g_object_unref(UnsafeMutableRawPointer(number)) }
        var ext = PangoRectangle()
        pango_layout_get_extents(number, nil, &ext)
        cairo_set_source_rgb(cr, 0.45, 0.45, 0.45)
        cairo_move_to(cr, (options.pageWidth - Double(ext.width) / pangoUnit) / 2, options.pageHeight - options.margin / 2 - 6)
        pango_cairo_show_layout(cr, number)
        cairo_show_page(cr)
        pageOpen = false
    }

    func newPage() {
        endPage()
        beginPage()
    }

    /// Starts a new page unless `height` fits below the cursor (or the page is still empty).
    func need(_ height: Double) {
        if y + height > bottom && y > top { newPage() }
    }

    // MARK: blocks

    private func block(_ b: Block, x: Double, width: Double, tight: Bool) {
        let after = PageDesign.spaceAfter(tight: tight)
        switch b {
        case .heading(let level, let inlines):
            let size = PageDesign.headingSize(level)
            let rich = RichText(inlines)
            let l = layout(rich, font: font(PageDesign.headingFamily(options), size, bold: true), width: width)
            defer { g_object_unref(UnsafeMutableRawPointer(l)) }
            if y > top { y += PageDesign.headingSpace(size).above }
            need(height(l) + PageDesign.keptWithHeading(bodySize: options.bodySize))
            addOutline(level: level, title: Inline.plainText(inlines))
            flow(l, x: x, rich: rich)
            y += PageDesign.headingSpace(size).below
        case .paragraph(let inlines):
            let (rich, drawsText) = PageDesign.paragraphText(inlines, images: &images)
            if drawsText {
                let l = layout(rich, font: font(options.bodyFamily, options.bodySize), width: width)
                defer { g_object_unref(UnsafeMutableRawPointer(l)) }
                flow(l, x: x, rich: rich)
            }
            for picture in rich.pictures { image(picture.url, alt: picture.alt, x: x, width: width) }
            y += after
        case .blockQuote(let inner):
            quoteBars.append(x + 2)
            for child in inner { block(child, x: x + PageDesign.quoteIndent, width: width - PageDesign.quoteIndent, tight: tight) }
            quoteBars.removeLast()
        case .list(let ordered, let start, let isTight, let items):
            let indent = PageDesign.listIndent
            let depth = listDepth
            listDepth += 1
            defer { listDepth -= 1 }
            PageDesign.listItems(items, ordered: ordered, start: start, depth: depth, tight: isTight) { label, blocks, itemTight in
                let m = layout(RichText(text: label), font: font(options.bodyFamily, options.bodySize), width: nil)
                var ext = PangoRectangle()
                pango_layout_get_extents(m, nil, &ext)
                if let old = pendingMarker { g_object_unref(UnsafeMutableRawPointer(old.layout)) }
                pendingMarker = (m, x + indent - 5 - Double(ext.width) / pangoUnit)
                for child in blocks { block(child, x: x + indent, width: width - indent, tight: itemTight) }
                if let old = pendingMarker { g_object_unref(UnsafeMutableRawPointer(old.layout)); pendingMarker = nil }
            }
            y += tight ? 0 : 4
        case .codeBlock(_, let code):
            var rich = RichText()
            rich.append(code.hasSuffix("\n") ? String(code.dropLast()) : code)
            let l = layout(rich, font: font(options.monoFamily, options.bodySize - 1.5), width: width - 8)
            defer { g_object_unref(UnsafeMutableRawPointer(l)) }
            y += 2
            flow(l, x: x + 4, rich: rich, background: (x, width))
            y += after + 2
        case .thematicBreak:
            need(14)
            cairo_set_source_rgb(cr, 0.7, 0.7, 0.7)
            cairo_set_line_width(cr, 0.75)
            cairo_move_to(cr, x, y + 7)
            cairo_line_to(cr, x + width, y + 7)
            cairo_stroke(cr)
            y += 14
        case .table(let header, let alignments, let rows):
            table(header: header, alignments: alignments, rows: rows, x: x, width: width)
            y += after + 2
        case .pageBreak:
            if y > top { newPage() }
        case .raw:
            break  // raw markup of another format has no meaning on a page (as in the HTML writer)
        }
    }

    private func addOutline(level: Int, title: String) {
        let text = RichText.printable(title.split(whereSeparator: \.isWhitespace).joined(separator: " "))
        guard !text.isEmpty else { return }
        while let last = outline.last, last.level >= level { outline.removeLast() }
        let parent = outline.last?.id ?? Int32(CAIRO_PDF_OUTLINE_ROOT)
        let dest = "page=\(page) pos=[\(fmt(options.margin)) \(fmt(y))]"
        let id = cairo_pdf_surface_add_outline(surface, parent, text, dest, cairo_pdf_outline_flags_t(rawValue: 0))
        outline.append((level, id))
    }

    // MARK: text

    func font(_ family: String, _ size: Double, bold: Bool = false, italic: Bool = false) -> OpaquePointer {
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
    func layout(_ rich: RichText, font: OpaquePointer, width: Double?, alignment: Alignment = .none) -> OpaquePointer {
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
        return l
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

    func height(_ l: OpaquePointer) -> Double {
        var ext = PangoRectangle()
        pango_layout_get_extents(l, nil, &ext)
        return Double(ext.height) / pangoUnit
    }

    /// Draws a layout line by line from the cursor, moving to a new page where a line does not
    /// fit; draws the pending list marker beside the first line, quote bars and code backgrounds
    /// beside every line, and link areas over linked text.
    private func flow(_ l: OpaquePointer, x: Double, rich: RichText, background: (x: Double, width: Double)? = nil) {
        let iter = pango_layout_get_iter(l)!
        defer { pango_layout_iter_free(iter) }
        repeat {
            var logical = PangoRectangle()
            pango_layout_iter_get_line_extents(iter, nil, &logical)
            let h = Double(logical.height) / pangoUnit
            need(h)
            let baseline = y + (Double(pango_layout_iter_get_baseline(iter)) - Double(logical.y)) / pangoUnit
            if let bg = background {
                cairo_set_source_rgb(cr, 0.95, 0.95, 0.95)
                cairo_rectangle(cr, bg.x, y - 0.5, bg.width, h + 1)
                cairo_fill(cr)
            }
            for bar in quoteBars {
                cairo_set_source_rgb(cr, 0.8, 0.8, 0.8)
                cairo_rectangle(cr, bar, y, 2.5, h)
                cairo_fill(cr)
            }
            if let marker = pendingMarker {
                cairo_set_source_rgb(cr, 0.1, 0.1, 0.1)
                cairo_move_to(cr, marker.x, baseline - Double(pango_layout_get_baseline(marker.layout)) / pangoUnit)
                pango_cairo_show_layout(cr, marker.layout)
                g_object_unref(UnsafeMutableRawPointer(marker.layout))
                pendingMarker = nil
            }
            let line = pango_layout_iter_get_line_readonly(iter)!
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1)
            cairo_move_to(cr, x + Double(logical.x) / pangoUnit, baseline)
            pango_cairo_show_layout_line(cr, line)
            if !rich.links.isEmpty { linkAreas(line, originX: x, top: y, height: h, links: rich.links) }
            y += h
        } while pango_layout_iter_next_line(iter) != 0
    }

    /// Link annotations over the parts of `line` that carry a link.
    func linkAreas(_ line: UnsafeMutablePointer<PangoLayoutLine>, originX: Double, top: Double, height: Double,
                           links: [(start: Int, end: Int, uri: String)]) {
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

    private func fmt(_ v: Double) -> String { String(Double(Int(v * 100)) / 100) }
}
