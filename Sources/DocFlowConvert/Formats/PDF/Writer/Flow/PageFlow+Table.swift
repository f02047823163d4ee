import DocFlowModel

/// Tables: column widths fitted to the column, cells wrapped, borders, the header row repeated at
/// the top of every page the table reaches, a row taller than a page cut at its end (a warning).
extension PageFlow {
    private typealias Row = (cells: [B.Lines], links: [[TextLink]], height: Double)

    func table(header: [[Inline]], alignments: [Alignment], rows: [[[Inline]]], x: Double, width: Double) throws {
        let n = max(header.count, rows.map(\.count).max() ?? 0)
        guard n > 0 else { return }
        let pad = PageDesign.cellPadding
        let widths = try PageDesign.columnWidths(header: header, rows: rows, count: n, total: width, images: &images) { text, isHeader in
            try backend.layOut(text, isHeader ? .headerCell : .cell, width: nil, alignment: .none).width
        }

        func cells(_ row: [[Inline]], bold: Bool) throws -> Row {
            var out: Row = ([], [], 0)
            for i in 0..<n {
                let r = i < row.count ? PageDesign.cellText(row[i], images: &images) : RichText()
                let align = i < alignments.count ? alignments[i] : .none
                let lines = try backend.layOut(r, bold ? .headerCell : .cell, width: widths[i] - 2 * pad, alignment: align)
                out.height = max(out.height, lines.totalHeight)
                out.cells.append(lines)
                out.links.append(r.links)
            }
            out.height += 2 * pad
            return out
        }
        func draw(_ c: Row, shaded: Bool) {
            let h = min(c.height, bottom - y)
            if h < c.height { cutRows += 1 }
            let total = widths.reduce(0, +)
            if shaded { backend.fill(.tableHeader, x: x, top: y, width: total, height: h) }
            backend.clipped(x: x, top: y, width: total, height: h) {
                var cx = x
                for (i, lines) in c.cells.enumerated() {
                    var ly = y + pad
                    for k in 0..<lines.lineCount where ly < y + h {
                        backend.drawLine(lines, k, x: cx + pad, baseline: ly + lines.ascent(k), links: c.links[i], color: nil)
                        ly += lines.height(k)
                    }
                    cx += widths[i]
                }
            }
            var cx = x
            backend.stroke(.tableBorder, lineWidth: 0.5, rects: widths.map { w in
                defer { cx += w }
                return (cx, y, w, h)
            })
            y += h
        }

        let head = try cells(header, bold: true)
        let hasHeader = header.contains { !$0.isEmpty }
        var headerPage = 0
        for row in rows {
            let c = try cells(row, bold: false)
            try need(c.height)
            if hasHeader && headerPage != page {  // the header opens the table on every page
                try need(head.height + c.height)
                draw(head, shaded: true)
                headerPage = page
            }
            draw(c, shaded: false)
        }
        if rows.isEmpty, hasHeader {
            try need(head.height)
            draw(head, shaded: true)
        }
    }
}
