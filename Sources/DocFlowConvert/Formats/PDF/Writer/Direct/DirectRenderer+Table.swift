import DocFlowModel

/// Tables and pictures, as the pango renderer draws them: column widths fitted to the page, cells
/// wrapped, borders, the header row repeated on every page the table reaches; images from data URLs.
extension DirectRenderer {
    func table(header: [[Inline]], alignments: [Alignment], rows: [[[Inline]]], x: Double, width: Double) throws {
        let n = max(header.count, rows.map(\.count).max() ?? 0)
        guard n > 0 else { return }
        let pad = PageDesign.cellPadding
        var bodyBase = body
        bodyBase.size = options.bodySize - 1
        var headBase = bodyBase
        headBase.bold = true
        func rich(_ cell: [Inline]) -> RichText { PageDesign.cellText(cell, images: &images) }
        let widths = try PageDesign.columnWidths(header: header, rows: rows, count: n, total: width, images: &images) { text, isHeader in
            try TextLayout.lines(text, base: isHeader ? headBase : bodyBase, fonts: fonts, width: nil).map(\.width).max() ?? 0
        }

        typealias Row = (cells: [[TextLine]], links: [[(start: Int, end: Int, uri: String)]], height: Double)
        func cells(_ row: [[Inline]], bold: Bool) throws -> Row {
            var out: Row = ([], [], 0)
            for i in 0..<n {
                let r = i < row.count ? rich(row[i]) : RichText()
                let align = i < alignments.count ? alignments[i] : .none
                let lines = try TextLayout.lines(r, base: bold ? headBase : bodyBase, fonts: fonts, width: widths[i] - 2 * pad, alignment: align)
                out.height = max(out.height, lines.reduce(0) { $0 + $1.height })
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
            if shaded { fill(RGB(r: 0.93, g: 0.93, b: 0.93), x, y, total, h) }
            content.save()
            content.rect(x, options.pageHeight - y - h, total, h)
            content.op("W n")
            var cx = x
            for (i, lines) in c.cells.enumerated() {
                var ly = y + pad
                for line in lines where ly < y + h {
                    self.draw(line, x: cx + pad, baseline: ly + line.ascent, top: ly, links: c.links[i])
                    ly += line.height
                }
                cx += widths[i]
            }
            content.restore()
            content.color(RGB(r: 0.6, g: 0.6, b: 0.6), stroke: true)
            content.num(0.5); content.op("w")
            cx = x
            for w in widths {
                content.rect(cx, options.pageHeight - y - h, w, h)
                cx += w
            }
            content.op("S")
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

    /// Draws an image from a data URL below the cursor: 96 dpi nominal size, scaled down to the
    /// column and to 60 % of the page height. JPEG data is embedded as it is (DCTDecode); other
    /// formats are decoded with gdk-pixbuf and embedded as compressed RGB with an alpha mask. The
    /// same picture drawn twice is embedded once. One that cannot be drawn shows its alt text.
    func image(_ url: String, alt: String, x: Double, width: Double) throws {
        guard let picture = try picture(url) else {
            context.warn("An image could not be decoded (or is larger than \(PDFRenderer.maxImagePixels / 1_000_000) megapixels); its alt text is shown.")
            var rich = RichText()
            rich.append(alt.isEmpty ? "[image]" : "[image: \(alt)]")
            var base = body
            base.italic = true
            let lines = try TextLayout.lines(rich, base: base, fonts: fonts, width: width)
            for line in lines {
                try need(line.height)
                draw(line, x: x, baseline: y + line.ascent, top: y, links: [])
                y += line.height
            }
            return
        }
        var w = Double(picture.width) * 0.75, h = Double(picture.height) * 0.75
        let scale = min(1, width / w, (bottom - top) * 0.6 / h)
        w *= scale; h *= scale
        try need(h + 4)
        content.save()
        content.num(w); content.raw("0 0 "); content.num(h); content.num(x); content.num(options.pageHeight - y - 2 - h); content.op("cm")
        content.raw("/\(picture.name) "); content.op("Do")
        content.restore()
        y += h + 4
        embedded += 1
    }

    private func picture(_ url: String) throws -> (name: String, id: Int, width: Int, height: Int)? {
        if let known = pictures[url] { return known }
        guard let bytes = Raster.bytes(dataURL: url) else { return nil }
        let id = file.reserve()
        let name = "Im\(id)"
        if let (w, h, components) = Raster.jpeg(bytes), components == 1 || components == 3 {
            file.stream(id, "/Type /XObject /Subtype /Image /Width \(w) /Height \(h) /ColorSpace /\(components == 1 ? "DeviceGray" : "DeviceRGB") "
                + "/BitsPerComponent 8 /Filter /DCTDecode", bytes, deflated: false)
            pictures[url] = (name, id, w, h)
            return pictures[url]
        }
        guard let raster = Raster(bytes) else { return nil }
        let count = raster.width * raster.height
        var rgb = [UInt8](repeating: 0, count: count * 3)
        var alpha = [UInt8](repeating: 0, count: raster.hasAlpha ? count : 0)
        for p in 0..<count {
            rgb[3 * p] = raster.rgba[4 * p]; rgb[3 * p + 1] = raster.rgba[4 * p + 1]; rgb[3 * p + 2] = raster.rgba[4 * p + 2]
            if raster.hasAlpha { alpha[p] = raster.rgba[4 * p + 3] }
        }
        var mask = ""
        if raster.hasAlpha {
            let maskID = file.reserve()
            file.stream(maskID, "/Type /XObject /Subtype /Image /Width \(raster.width) /Height \(raster.height) /ColorSpace /DeviceGray /BitsPerComponent 8",
                        PDFFile.deflate(alpha), deflated: true)
            mask = " /SMask \(maskID) 0 R"
        }
        file.stream(id, "/Type /XObject /Subtype /Image /Width \(raster.width) /Height \(raster.height) /ColorSpace /DeviceRGB /BitsPerComponent 8\(mask)",
                    PDFFile.deflate(rgb), deflated: true)
        pictures[url] = (name, id, raster.width, raster.height)
        return pictures[url]
    }
}
