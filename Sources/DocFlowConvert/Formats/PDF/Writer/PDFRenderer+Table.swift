import CPangoCairo
import DocFlowModel

/// Tables: column widths fitted to the page, cells wrapped, borders, the header row repeated at the
/// top of every page the table reaches.
extension PDFRenderer {
    func table(header: [[Inline]], alignments: [Alignment], rows: [[[Inline]]], x: Double, width: Double) {
        let n = max(header.count, rows.map(\.count).max() ?? 0)
        guard n > 0 else { return }
        let pad = PageDesign.cellPadding
        let bodyFont = font(options.bodyFamily, options.bodySize - 1)
        let headFont = font(options.bodyFamily, options.bodySize - 1, bold: true)
        func rich(_ cell: [Inline]) -> RichText { PageDesign.cellText(cell, images: &images) }
        let widths = PageDesign.columnWidths(header: header, rows: rows, count: n, total: width, images: &images) { text, isHeader in
            let l = layout(text, font: isHeader ? headFont : bodyFont, width: nil)
            defer { g_object_unref(UnsafeMutableRawPointer(l)) }
            var ext = PangoRectangle()
            pango_layout_get_extents(l, nil, &ext)
            return Double(ext.width) / pangoUnit
        }

        func cells(_ row: [[Inline]], bold: Bool) -> (layouts: [OpaquePointer], texts: [RichText], height: Double) {
            var layouts: [OpaquePointer] = [], riches: [RichText] = []
            var h = 0.0
            for i in 0..<n {
                let r = i < row.count ? rich(row[i]) : RichText()
                let align = i < alignments.count ? alignments[i] : .none
                let l = layout(r, font: bold ? headFont : bodyFont, width: widths[i] - 2 * pad, alignment: align)
                h = max(h, height(l))
                layouts.append(l)
                riches.append(r)
            }
            return (layouts, riches, h + 2 * pad)
        }
        func draw(_ c: (layouts: [OpaquePointer], texts: [RichText], height: Double), shaded: Bool) {
            var cx = x
            let h = min(c.height, bottom - y)
            if h < c.height { cutRows += 1 }
            if shaded {
                cairo_set_source_rgb(cr, 0.93, 0.93, 0.93)
                cairo_rectangle(cr, x, y, widths.reduce(0, +), h)
                cairo_fill(cr)
            }
            cairo_save(cr)
            cairo_rectangle(cr, x, y, widths.reduce(0, +), h)
            cairo_clip(cr)
            for (i, l) in c.layouts.enumerated() {
                cairo_set_source_rgb(cr, 0.1, 0.1, 0.1)
                cairo_move_to(cr, cx + pad, y + pad)
                pango_cairo_show_layout(cr, l)
                if !c.texts[i].links.isEmpty {
                    let iter = pango_layout_get_iter(l)!
                    repeat {
                        var logical = PangoRectangle()
                        pango_layout_iter_get_line_extents(iter, nil, &logical)
                        linkAreas(pango_layout_iter_get_line_readonly(iter)!, originX: cx + pad,
                                  top: y + pad + Double(logical.y) / pangoUnit, height: Double(logical.height) / pangoUnit, links: c.texts[i].links)
                    } while pango_layout_iter_next_line(iter) != 0
                    pango_layout_iter_free(iter)
                }
                cx += widths[i]
            }
            cairo_restore(cr)
            cairo_set_source_rgb(cr, 0.6, 0.6, 0.6)
            cairo_set_line_width(cr, 0.5)
            cx = x
            for w in widths {
                cairo_rectangle(cr, cx, y, w, h)
                cx += w
            }
            cairo_stroke(cr)
            y += h
        }
        func free(_ c: (layouts: [OpaquePointer], texts: [RichText], height: Double)) {
            for l in c.layouts { g_object_unref(UnsafeMutableRawPointer(l)) }
        }

        let head = cells(header, bold: true)
        defer { free(head) }
        let hasHeader = header.contains { !$0.isEmpty }
        var headerPage = 0
        for row in rows {
            let c = cells(row, bold: false)
            need(c.height)
            if hasHeader && headerPage != page {  // the header opens the table on every page
                need(head.height + c.height)
                draw(head, shaded: true)
                headerPage = page
            }
            draw(c, shaded: false)
            free(c)
        }
        if rows.isEmpty, hasHeader {
            need(head.height)
            draw(head, shaded: true)
        }
    }
}
