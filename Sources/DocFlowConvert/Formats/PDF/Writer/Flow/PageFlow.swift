import DocFlowModel

/// The one page flow both PDF backends draw: the walk over blocks, lists, quotes, code, rules,
/// tables and pictures; where pages break (a line that does not fit, a heading kept with the
/// lines after it, an explicit page break); page numbers, the outline and the warnings. The
/// backend only measures and draws (`PageBackend`), so both give the same pages.
final class PageFlow<B: PageBackend> {
    let backend: B
    let options: PDFOptions
    let context: ConversionContext

    /// The current page (from 1) and the cursor's distance from the page's top.
    private(set) var page = 0
    var y = 0.0
    var top: Double { options.margin }
    var bottom: Double { options.pageHeight - options.margin }
    private var quoteBars: [Double] = []
    /// A list item's marker, drawn beside the first line that follows it.
    private var pendingMarker: (lines: B.Lines, x: Double)?
    private var listDepth = 0
    /// Linked images shown as alt text; table rows cut at a page end; pictures drawn.
    var images = 0
    var cutRows = 0
    var embedded = 0

    init(_ backend: B, context: ConversionContext) {
        self.backend = backend
        options = backend.options
        self.context = context
    }

    func render(_ doc: Document) throws -> [UInt8] {
        try beginPage()
        let total = max(1, doc.blocks.count)
        for (i, block) in doc.blocks.enumerated() {
            try self.block(block, x: options.margin, width: options.pageWidth - 2 * options.margin, tight: false)
            if i % 64 == 0 { context.progress(60 + 39 * i / total, "writing PDF page \(page)") }
        }
        try endPage()
        let bytes = try backend.finish(doc.metadata)
        if images > 0 { context.warn("\(images) linked image(s) are not fetched for PDF output (Doc Flow makes no network requests); their alt text is shown.") }
        if cutRows > 0 { context.warn("\(cutRows) table row(s) taller than a page were cut at the page end.") }
        context.report("page_count", .number(page))
        if embedded > 0 { context.report("images_embedded", .number(embedded)) }
        return bytes
    }

    // MARK: pages

    private func beginPage() throws {
        page += 1
        try backend.beginPage(page)
        y = top
    }

    /// The page number, centred below the text area, then the page is closed.
    private func endPage() throws {
        let number = try backend.layOut(RichText(text: String(page)), .pageNumber, width: nil, alignment: .none)
        backend.drawLine(number, 0, x: (options.pageWidth - number.width) / 2,
                         baseline: options.pageHeight - options.margin / 2 - 6 + number.ascent(0), links: [], color: .pageNumber)
        try backend.endPage(page)
    }

    func newPage() throws {
        try endPage()
        try beginPage()
    }

    /// Starts a new page unless `height` fits below the cursor (or the page is still empty).
    func need(_ height: Double) throws {
        if y + height > bottom && y > top { try newPage() }
    }

    // MARK: blocks

    private func block(_ b: Block, x: Double, width: Double, tight: Bool) throws {
        let after = PageDesign.spaceAfter(tight: tight)
        switch b {
        case .heading(let level, let inlines):
            let size = PageDesign.headingSize(level)
            let rich = RichText(inlines)
            let lines = try backend.layOut(rich, .heading(level), width: width, alignment: .none)
            if y > top { y += PageDesign.headingSpace(size).above }
            // Kept with what follows: the heading and a few body lines fit, or a new page starts.
            try need(lines.totalHeight + PageDesign.keptWithHeading(bodySize: options.bodySize))
            addOutline(level: level, title: Inline.plainText(inlines))
            try flow(lines, x: x, links: rich.links)
            y += PageDesign.headingSpace(size).below
        case .paragraph(let inlines):
            let (rich, drawsText) = PageDesign.paragraphText(inlines, images: &images)
            if drawsText {
                try flow(try backend.layOut(rich, .body, width: width, alignment: .none), x: x, links: rich.links)
            }
            for picture in rich.pictures { try image(picture.url, alt: picture.alt, x: x, width: width) }
            y += after
        case .blockQuote(let inner):
            quoteBars.append(x + 2)
            for child in inner { try block(child, x: x + PageDesign.quoteIndent, width: width - PageDesign.quoteIndent, tight: tight) }
            quoteBars.removeLast()
        case .list(let ordered, let start, let isTight, let items):
            let (indent, depth) = (PageDesign.listIndent, listDepth)
            listDepth += 1
            defer { listDepth -= 1 }
            try PageDesign.listItems(items, ordered: ordered, start: start, depth: depth, tight: isTight) { label, blocks, itemTight in
                let marker = try backend.layOut(RichText(text: label), .body, width: nil, alignment: .none)
                pendingMarker = (marker, x + indent - 5 - marker.width)
                for child in blocks { try block(child, x: x + indent, width: width - indent, tight: itemTight) }
                pendingMarker = nil
            }
            y += tight ? 0 : 4
        case .codeBlock(_, let code):
            var rich = RichText()
            rich.append(code.hasSuffix("\n") ? String(code.dropLast()) : code)
            let lines = try backend.layOut(rich, .code, width: width - 8, alignment: .none)
            y += 2
            try flow(lines, x: x + 4, links: [], background: (x, width))
            y += after + 2
        case .thematicBreak:
            try need(14)
            backend.rule(.rule, lineWidth: 0.75, from: x, to: x + width, at: y + 7)
            y += 14
        case .table(let header, let alignments, let rows):
            try table(header: header, alignments: alignments, rows: rows, x: x, width: width)
            y += after + 2
        case .pageBreak:
            if y > top { try newPage() }
        case .raw:
            break  // raw markup of another format has no meaning on a page (as in the HTML writer)
        }
    }

    private func addOutline(level: Int, title: String) {
        let text = RichText.printable(title.split(whereSeparator: \.isWhitespace).joined(separator: " "))
        guard !text.isEmpty else { return }
        backend.outline(level: level, title: text, page: page, y: y)
    }

    /// Draws lines from the cursor, moving to a new page where a line does not fit; draws the
    /// pending list marker beside the first line, quote bars and code backgrounds beside every line.
    func flow(_ lines: B.Lines, x: Double, links: [TextLink], background: (x: Double, width: Double)? = nil) throws {
        for i in 0..<lines.lineCount {
            let h = lines.height(i)
            try need(h)
            if let bg = background { backend.fill(.codeBackground, x: bg.x, top: y - 0.5, width: bg.width, height: h + 1) }
            for bar in quoteBars { backend.fill(.quoteBar, x: bar, top: y, width: 2.5, height: h) }
            let baseline = y + lines.ascent(i)
            if let marker = pendingMarker {
                backend.drawLine(marker.lines, 0, x: marker.x, baseline: baseline, links: [], color: nil)
                pendingMarker = nil
            }
            backend.drawLine(lines, i, x: x, baseline: baseline, links: links, color: nil)
            y += h
        }
    }

    /// A picture from a data URL below the cursor: 96 dpi nominal size, scaled down to the column
    /// and to 60 % of the page height. One that cannot be decoded shows its alt text (a warning).
    private func image(_ url: String, alt: String, x: Double, width: Double) throws {
        guard let picture = try backend.picture(url) else {
            context.warn("An image could not be decoded (or is larger than \(PageDesign.maxImagePixels / 1_000_000) megapixels); its alt text is shown.")
            var rich = RichText()
            rich.append(alt.isEmpty ? "[image]" : "[image: \(alt)]")
            try flow(try backend.layOut(rich, .altText, width: width, alignment: .none), x: x, links: [])
            return
        }
        let (pw, ph) = backend.pixels(picture)
        var w = Double(pw) * 0.75, h = Double(ph) * 0.75
        let scale = min(1, width / w, (bottom - top) * 0.6 / h)
        w *= scale; h *= scale
        try need(h + 4)
        backend.draw(picture, x: x, top: y + 2, width: w, height: h)
        y += h + 4
        embedded += 1
    }
}
