import DocFlowModel
import Foundation

/// Writes the PDF itself: words shaped by HarfBuzz (each
/// distinct word once), lines broken here, page content written as PDF operators, pages
/// compressed on every core, fonts subset by HarfBuzz and embedded with widths and a ToUnicode
/// map. The backend of `PageFlow` (which decides what goes where, as for the pango backend); it
/// refuses (`NeedsPango`) text it does not place: glyphs the fonts lack, right-to-left scripts,
/// marks positioned on letters.
final class DirectBackend: PageBackend {
    let options: PDFOptions
    let context: ConversionContext
    let file = PDFFile()
    let fonts = FontSet()
    private let pagesID: Int
    private let resourcesID: Int

    var content = PDFContent()
    private var pageIDs: [Int] = []
    /// A link area on a page: its rectangle in PDF space (x0, y0, x1, y1) and where it goes.
    typealias LinkArea = (rect: (Double, Double, Double, Double), uri: String)
    private var annotations: [LinkArea] = []
    typealias FinishedPage = (id: Int, content: [UInt8], annotations: [LinkArea])
    private var finished: [FinishedPage] = []
    private var inFlight: Batch?
    private var outlineEntries: [(level: Int, title: String, page: Int, y: Double)] = []
    /// Images embedded so far, by data URL: each is one XObject however often it is drawn.
    var pictures: [String: DirectPicture] = [:]

    init(options: PDFOptions, context: ConversionContext) {
        self.options = options
        self.context = context
        pagesID = file.reserve()
        resourcesID = file.reserve()
    }

    var body: TextLayout.Base { TextLayout.Base(family: options.bodyFamily, monoFamily: options.monoFamily, size: options.bodySize) }

    /// Lines laid out by `TextLayout`.
    struct Lines: LaidOutLines {
        let lines: [TextLine]
        var lineCount: Int { lines.count }
        func height(_ i: Int) -> Double { lines[i].height }
        func ascent(_ i: Int) -> Double { lines[i].ascent }
        var width: Double { lines.map(\.width).max() ?? 0 }
    }

    func layOut(_ rich: RichText, _ style: TextStyle, width: Double?, alignment: Alignment) throws -> Lines {
        var base = body
        switch style {
        case .body: break
        case .heading(let level):
            base.family = PageDesign.headingFamily(options)
            base.size = PageDesign.headingSize(level)
            base.bold = true
        case .code:
            base.family = options.monoFamily
            base.size = options.bodySize - 1.5
        case .cell: base.size = options.bodySize - 1
        case .headerCell:
            base.size = options.bodySize - 1
            base.bold = true
        case .pageNumber: base.size = 8.5
        case .altText: base.italic = true
        }
        return Lines(lines: try TextLayout.lines(rich, base: base, fonts: fonts, width: width, alignment: alignment))
    }

    func drawLine(_ lines: Lines, _ i: Int, x: Double, baseline: Double, links: [TextLink], color: RGB?) {
        let line = lines.lines[i]
        draw(line, x: x, baseline: baseline, top: baseline - line.ascent, links: links, color: color)
    }

    func fill(_ color: RGB, x: Double, top: Double, width: Double, height: Double) {
        content.fill(color, x, options.pageHeight - top - height, width, height)
    }

    func stroke(_ color: RGB, lineWidth: Double, rects: [(x: Double, top: Double, width: Double, height: Double)]) {
        content.color(color, stroke: true)
        content.num(lineWidth); content.op("w")
        for r in rects { content.rect(r.x, options.pageHeight - r.top - r.height, r.width, r.height) }
        content.op("S")
    }

    func rule(_ color: RGB, lineWidth: Double, from x0: Double, to x1: Double, at y: Double) {
        content.color(color, stroke: true)
        content.num(lineWidth); content.op("w")
        content.num(x0); content.num(options.pageHeight - y); content.op("m")
        content.num(x1); content.num(options.pageHeight - y); content.op("l")
        content.op("S")
    }

    func clipped(x: Double, top: Double, width: Double, height: Double, _ body: () throws -> Void) rethrows {
        content.save()
        content.rect(x, options.pageHeight - top - height, width, height)
        content.op("W n")
        defer { content.restore() }
        try body()
    }

    // MARK: pages

    func beginPage(_ number: Int) {
        pageIDs.append(file.reserve())
        content = PDFContent()
    }

    func endPage(_ number: Int) {
        finished.append((pageIDs[number - 1], content.bytes, annotations))
        annotations = []
        if finished.count >= 32 { flushPages() }
    }

    /// Pages whose content is being compressed while the next pages are laid out.
    private final class Batch {
        let pages: [FinishedPage]
        var compressed: [[UInt8]] = []
        let done = DispatchGroup()
        init(_ pages: [FinishedPage]) { self.pages = pages }
    }

    /// Hands the finished pages to a worker that compresses them (on every core) while layout
    /// goes on, and writes the batch handed over before this one; `last` waits for all.
    private func flushPages(last: Bool = false) {
        let batch = Batch(finished)
        finished = []
        DispatchQueue.global().async(group: batch.done) {
            let pages = batch.pages
            let parts = max(1, min(ProcessInfo.processInfo.activeProcessorCount, pages.count))
            let split = Parallel.map(parts) { part in stride(from: part, to: pages.count, by: parts).map { PDFFile.deflate(pages[$0].content) } }
            batch.compressed = pages.indices.map { split[$0 % parts][$0 / parts] }
        }
        if let previous = inFlight { write(previous) }
        inFlight = batch
        if last {
            write(batch)
            inFlight = nil
        }
    }

    private func write(_ batch: Batch) {
        batch.done.wait()
        for (i, p) in batch.pages.enumerated() {
            let contentID = file.reserve()
            file.stream(contentID, "", batch.compressed[i], deflated: true)
            var annots: [Int] = []
            for a in p.annotations {
                let id = file.reserve()
                let (x0, y0, x1, y1) = a.rect
                file.object(id, "<< /Type /Annot /Subtype /Link /Rect [\(r(x0)) \(r(y0)) \(r(x1)) \(r(y1))] /Border [0 0 0] "
                    + "/A << /S /URI /URI \(PDFFile.text(Self.asciiURI(a.uri))) >> >>")
                annots.append(id)
            }
            file.object(p.id, "<< /Type /Page /Parent \(pagesID) 0 R /MediaBox [0 0 \(options.pageWidth) \(options.pageHeight)] "
                + "/Resources \(resourcesID) 0 R /Contents \(contentID) 0 R"
                + (annots.isEmpty ? "" : " /Annots [\(annots.map { "\($0) 0 R" }.joined(separator: " "))]") + " >>")
        }
    }


    func finish(_ metadata: Metadata) throws -> [UInt8] {
        flushPages(last: true)
        for (i, font) in fonts.ordered.enumerated() where font.objectID > 0 {
            // A subset's name starts with a tag of six capitals, distinct per font: AAAAAA, AAAAAB…
            var tag = "", n = i
            for _ in 0..<6 { tag.insert(Character(Unicode.Scalar(UInt8(65 + n % 26))), at: tag.startIndex); n /= 26 }
            file.embed(font, tag: tag)
        }
        let fontRefs = fonts.ordered.filter { $0.objectID > 0 }.map { "/\($0.resource) \($0.objectID) 0 R" }.joined(separator: " ")
        let imageRefs = pictures.values.sorted { $0.id < $1.id }.map { "/\($0.name) \($0.id) 0 R" }.joined(separator: " ")
        file.object(resourcesID, "<< /Font << \(fontRefs) >>\(imageRefs.isEmpty ? "" : " /XObject << \(imageRefs) >>") >>")
        file.object(pagesID, "<< /Type /Pages /Kids [\(pageIDs.map { "\($0) 0 R" }.joined(separator: " "))] /Count \(pageIDs.count) >>")
        let outlinesID = writeOutline()
        let catalog = file.reserve(), info = file.reserve()
        file.object(catalog, "<< /Type /Catalog /Pages \(pagesID) 0 R"
            + (outlinesID.map { " /Outlines \($0) 0 R /PageMode /UseOutlines" } ?? "") + " >>")
        var fields = ["/Creator (Doc Flow)", "/Producer (Doc Flow)"]
        if let t = metadata.title { fields.insert("/Title \(PDFFile.text(RichText.printable(t)))", at: 0) }
        if let a = metadata.author { fields.insert("/Author \(PDFFile.text(RichText.printable(a)))", at: 0) }
        file.object(info, "<< \(fields.joined(separator: " ")) >>")
        return file.finish(root: catalog, info: info)
    }

    func outline(level: Int, title: String, page: Int, y: Double) {
        outlineEntries.append((level, title, page, y))
    }

    /// The headings as the document outline (bookmarks), nested by level, closed below the top.
    private func writeOutline() -> Int? {
        let outline = outlineEntries
        guard !outline.isEmpty else { return nil }
        let rootID = file.reserve()
        let ids = outline.map { _ in file.reserve() }
        var parent = [Int](repeating: -1, count: outline.count)
        var stack: [Int] = []
        for (i, entry) in outline.enumerated() {
            while let last = stack.last, outline[last].level >= entry.level { stack.removeLast() }
            parent[i] = stack.last ?? -1
            stack.append(i)
        }
        var children = [[Int]](repeating: [], count: outline.count)
        var top: [Int] = []
        for i in outline.indices { if parent[i] < 0 { top.append(i) } else { children[parent[i]].append(i) } }
        // Sibling links from one pass over each sibling list (no recursion: outlines can be deep).
        var prev = [Int](repeating: -1, count: outline.count), next = [Int](repeating: -1, count: outline.count)
        for list in [top] + children where list.count > 1 {
            for k in 1..<list.count { prev[list[k]] = list[k - 1]; next[list[k - 1]] = list[k] }
        }
        for (i, e) in outline.enumerated() {
            var d = "<< /Title \(PDFFile.text(e.title)) /Parent \(parent[i] < 0 ? rootID : ids[parent[i]]) 0 R"
            if prev[i] >= 0 { d += " /Prev \(ids[prev[i]]) 0 R" }
            if next[i] >= 0 { d += " /Next \(ids[next[i]]) 0 R" }
            if let f = children[i].first, let l = children[i].last {
                d += " /First \(ids[f]) 0 R /Last \(ids[l]) 0 R /Count -\(children[i].count)"
            }
            d += " /Dest [\(pageIDs[e.page - 1]) 0 R /XYZ \(r(options.margin)) \(r(options.pageHeight - e.y)) null] >>"
            file.object(ids[i], d)
        }
        file.object(rootID, "<< /Type /Outlines /First \(ids[top[0]]) 0 R /Last \(ids[top.last!]) 0 R /Count \(top.count) >>")
        return rootID
    }

    // MARK: drawing

    /// One line of text at `baseline`: code shading under, the glyphs (one text object, a font
    /// change or a jump only where the line needs one, kerning as TJ adjustments), underline and
    /// strike lines over, and link areas for the runs that carry a link.
    private func draw(_ line: TextLine, x: Double, baseline: Double, top: Double, links: [TextLink], color: RGB?) {
        let pdfBaseline = options.pageHeight - baseline
        var content = PDFContent()  // the page's buffer, held locally while the line is written
        swap(&content, &self.content)
        defer { swap(&content, &self.content) }
        for run in line.runs where run.style.shaded {
            content.fill(RGB(r: 0.933, g: 0.933, b: 0.933), x + run.x, pdfBaseline - run.font.descent * run.size, run.width, (run.font.ascent + run.font.descent) * run.size)
        }
        content.op("BT")
        var open = false, hex = false, expected = -1e9
        var previous: PlacedRun?
        for run in line.runs where !run.shaped.glyphs.isEmpty || run.spaces > 0 {
            let c = color ?? run.style.color
            // A run continues the text array when it has the same font, size and colour and
            // starts where the last one ended; otherwise the array closes and the state is set.
            if previous == nil || previous!.font !== run.font || previous!.size != run.size || (color ?? previous!.style.color) != c
                || abs(expected - (x + run.x)) > 0.005 {
                if hex { content.bytes.append(0x3E); hex = false }
                if open { content.op("] TJ"); open = false }
                if run.font.objectID == 0 { run.font.objectID = file.reserve() }
                content.font(run.font, run.size)
                content.color(c)
                content.raw("1 0 0 1 "); content.num(x + run.x); content.num(pdfBaseline); content.op("Tm")
                content.bytes.append(0x5B)  // [
                open = true
            }
            if !hex { content.bytes.append(0x3C); hex = true }  // <
            let scale = 1000 / run.font.upem
            let kerning = run.shaped.kerning
            for (k, g) in run.shaped.glyphs.enumerated() {
                content.glyph(g)
                if !kerning.isEmpty, kerning[k] != 0 {
                    content.bytes.append(0x3E)  // >
                    content.num(Double(kerning[k]) * scale)
                    content.bytes.append(0x3C)
                }
            }
            for _ in 0..<run.spaces { content.glyph(run.font.spaceGlyph) }
            expected = x + run.x + run.width
            previous = run
        }
        if hex { content.bytes.append(0x3E) }
        if open { content.op("] TJ") }
        content.op("ET")
        for run in line.runs where run.style.underline || run.style.strike {
            let thickness = max(0.5, run.size * 0.06)
            if run.style.underline { content.fill(run.style.color, x + run.x, pdfBaseline - run.size * 0.1 - thickness, run.width, thickness) }
            if run.style.strike { content.fill(run.style.color, x + run.x, pdfBaseline + run.size * 0.3 - thickness, run.width, thickness) }
        }
        // Link areas: neighbouring runs of one link make one area.
        var i = 0
        while i < line.runs.count {
            let link = line.runs[i].style.link
            guard link >= 0, link < links.count else { i += 1; continue }
            var j = i
            while j + 1 < line.runs.count && line.runs[j + 1].style.link == link { j += 1 }
            let x0 = x + line.runs[i].x, x1 = x + line.runs[j].x + line.runs[j].width
            if x1 > x0 {
                annotations.append(((x0, options.pageHeight - top - line.height, x1, options.pageHeight - top), links[link].uri))
            }
            i = j + 1
        }
    }

    /// URIs in PDF are 7-bit ASCII (ISO 32000-1 §12.6.4.7): other bytes percent-encoded.
    static func asciiURI(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if b >= 0x21 && b < 0x7F { out.unicodeScalars.append(Unicode.Scalar(b)) } else { out += String(format: "%%%02X", b) }
        }
        return out
    }

    func r(_ v: Double) -> String {
        let x = (v * 100).rounded() / 100
        return x == x.rounded() ? String(Int(x)) : String(x)
    }
}
