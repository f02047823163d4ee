import DocFlowModel
import Foundation

/// PowerPoint presentations (PPTX) into the document hub: slides in presentation order, each
/// slide's title as a heading, text frames as paragraphs and lists (body placeholders are bulleted
/// unless a paragraph says otherwise; text boxes only when they ask for bullets or numbers), group
/// shapes, tables, images (data URLs for HTML and PDF output), speaker notes as a quotation when
/// the `notes` option is true, and a page break between slides.
public struct PPTXReader: Reader {
    public let format = Format.pptx
    public let options = [DocumentOptions.notes]
    public init() {}

    public func read(_ bytes: [UInt8], context: ConversionContext) throws -> Payload {
        let package = try OfficePackage(bytes, what: "PowerPoint")
        let main = try package.mainPart(default: "ppt/presentation.xml")
        let rels = try package.relationships(of: main)
        guard let presentation = try package.tree(main)?.root else {
            throw ConversionError(.malformedInput, "The PowerPoint file has no presentation part (\(main)); it is not a PPTX presentation.")
        }
        let notes = context.options.bool(DocumentOptions.notes) ?? false
        let images = OfficeImages(package: package, context: context)
        var ids: [String] = []
        for s in presentation.child("sldIdLst")?.children ?? XMLChildren(first: nil, tree: presentation.tree) where s.is("sldId") {
            if let id = s.relationshipAttr("id") { ids.append(id) }
        }
        var blocks: [Block] = []
        for (n, id) in ids.enumerated() {
            guard let rel = rels[id], !rel.external else { continue }
            context.progress(10 + 80 * n / max(ids.count, 1), "reading slide \(n + 1) of \(ids.count)")
            guard let slide = try package.tree(rel.target)?.root else {
                context.warn("Slide \(n + 1) has no part (\(rel.target)); it is left out.")
                continue
            }
            if !blocks.isEmpty { blocks.append(.pageBreak) }
            let slideRels = try package.relationships(of: rel.target)
            var reader = SlideReader(rels: slideRels, images: images)
            if let tree = slide.child("cSld")?.child("spTree") { reader.shapes(tree) }
            blocks += reader.blocks
            if notes, let notesPath = slideRels.values.first(where: { $0.type.hasSuffix("/notesSlide") && !$0.external })?.target,
               let notesRoot = try package.tree(notesPath)?.root, let tree = notesRoot.child("cSld")?.child("spTree") {
                var notesReader = SlideReader(rels: try package.relationships(of: notesPath), images: images, notesOnly: true)
                notesReader.shapes(tree)
                if !notesReader.blocks.isEmpty { blocks.append(.blockQuote([.paragraph([.strong([.text("Notes")])])] + notesReader.blocks)) }
            }
        }
        blocks = OfficeBlocks.clean(blocks)
        var meta = try package.coreProperties()
        if meta.title == nil { meta.title = OfficeBlocks.firstHeading(blocks) }
        meta.properties["slide_count"] = .number(ids.count)
        meta.properties["image_count"] = .number(images.count)
        return .document(Document(metadata: meta, blocks: blocks))
    }
}

/// The shapes of one slide (or notes page) in order.
struct SlideReader {
    let rels: [String: OfficePackage.Relationship]
    let images: OfficeImages
    var package: OfficePackage { images.package }
    var notesOnly = false
    private(set) var blocks: [Block] = []

    init(rels: [String: OfficePackage.Relationship], images: OfficeImages, notesOnly: Bool = false) {
        self.rels = rels
        self.images = images
        self.notesOnly = notesOnly
    }

    mutating func shapes(_ tree: XMLTreeNode) {
        for shape in tree.children {
            switch shape.name {
            case "sp": textShape(shape)
            case "grpSp": shapes(shape)
            case "graphicFrame":
                guard !notesOnly else { continue }
                if let t = shape.descendant("tbl") {
                    table(t)
                } else if let smartArt = OfficeDiagram.blocks(in: shape, rels: rels, package: package, context: images.context) {
                    blocks += smartArt
                } else {
                    blocks += OfficeChart.blocks(in: shape, rels: rels, package: package)
                }
            case "pic":
                if !notesOnly {
                    let pics = images.images(in: shape, rels: rels)
                    if !pics.isEmpty { blocks.append(.paragraph(pics)) }
                }
            case "AlternateContent": if let c = shape.child("Choice") { shapes(c) }
            default: continue
            }
        }
    }

    private mutating func textShape(_ sp: XMLTreeNode) {
        let ph = sp.child("nvSpPr")?.child("nvPr")?.child("ph")
        let type = ph?.attr("type")
        if notesOnly, type != "body" { return }
        guard let body = sp.child("txBody") else { return }
        let title = type == "title" || type == "ctrTitle"
        // Body placeholders bullet their paragraphs by default; titles, subtitles and text boxes do not.
        let bulleted = ph != nil && (type == nil || type == "body" || type == "obj") && !notesOnly
        if title {
            let lines = body.children.filter { $0.is("p") }.map(paragraphInlines).filter { !$0.isEmpty }
            let joined = lines.enumerated().flatMap { $0.offset == 0 ? $0.element : [Inline.text(" ")] + $0.element }
            if !joined.isEmpty { blocks.append(.heading(level: 1, joined)) }
            return
        }
        var items: [OfficeBlocks.PendingItem] = []
        func flush() {
            if !items.isEmpty { blocks += OfficeBlocks.nest(items[...]); items = [] }
        }
        for p in body.children where p.is("p") {
            let inlines = paragraphInlines(p)
            guard !inlines.isEmpty else { continue }
            let pPr = p.child("pPr")
            let level = pPr?.attr("lvl").flatMap(Int.init) ?? 0
            let none = pPr?.child("buNone") != nil
            let numbered = pPr?.child("buAutoNum") != nil
            let explicit = pPr?.child("buChar") != nil || numbered
            if explicit || (bulleted && !none) {
                items.append(OfficeBlocks.PendingItem(level: min(max(level, 0), 8), ordered: numbered, start: 1, content: inlines))
            } else {
                flush()
                blocks.append(.paragraph(inlines))
            }
        }
        flush()
    }

    private func paragraphInlines(_ p: XMLTreeNode) -> [Inline] {
        var out: [Inline] = []
        for c in p.children {
            switch c.name {
            case "r", "fld":
                let text = c.child("t")?.text ?? ""
                guard !text.isEmpty else { continue }
                let rPr = c.child("rPr")
                var x = Inline.text(text)
                if let u = rPr?.attr("u"), u != "none" { x = .underline([x]) }
                if let s = rPr?.attr("strike"), s != "noStrike" { x = .strikethrough([x]) }
                if rPr?.attr("i") == "1" || rPr?.attr("i") == "true" { x = .emphasis([x]) }
                if rPr?.attr("b") == "1" || rPr?.attr("b") == "true" { x = .strong([x]) }
                if let id = rPr?.child("hlinkClick")?.relationshipAttr("id"), let rel = rels[id], rel.external,
                   let url = OfficeBlocks.safeLink(rel.target) {
                    x = .link(url: url, title: nil, [x])
                }
                out.append(x)
            case "br": out.append(.lineBreak)
            default: continue
            }
        }
        return Inline.plainText(out).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? [] : out
    }

    private mutating func table(_ tbl: XMLTreeNode) {
        var rows: [[[Inline]]] = []
        for tr in tbl.children where tr.is("tr") {
            var cells: [[Inline]] = []
            for tc in tr.children where tc.is("tc") {
                if tc.attr("hMerge") == "1" || tc.attr("vMerge") == "1" { cells.append([]); continue }
                var content: [Inline] = []
                for p in tc.child("txBody")?.children ?? XMLChildren(first: nil, tree: tc.tree) where p.is("p") {
                    let xs = paragraphInlines(p)
                    if xs.isEmpty { continue }
                    if !content.isEmpty { content.append(.lineBreak) }
                    content += xs
                }
                cells.append(content)
            }
            rows.append(cells)
        }
        guard let width = rows.map(\.count).max(), width > 0 else { return }
        rows = rows.map { $0 + Array(repeating: [], count: width - $0.count) }
        blocks.append(.table(header: rows[0], alignments: Array(repeating: .none, count: width), rows: Array(rows.dropFirst())))
    }
}
