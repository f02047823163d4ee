import DocFlowModel
import Foundation

/// Walks a Word body (or a table cell, a text box, a note) into blocks.
final class DOCXBody {
    let package: OfficePackage
    var rels: [String: OfficePackage.Relationship]
    let styles: DOCXStyles
    let numbering: DOCXNumbering
    let context: ConversionContext
    let images: OfficeImages
    private(set) var mergedCells = 0
    var imageCount: Int { images.count }

    private var notes: [String: [Inline]] = [:]
    private var noteOrder: [String] = []

    init(package: OfficePackage, rels: [String: OfficePackage.Relationship], styles: DOCXStyles, numbering: DOCXNumbering, context: ConversionContext) {
        self.package = package
        self.rels = rels
        self.styles = styles
        self.numbering = numbering
        self.context = context
        images = OfficeImages(package: package, context: context)
    }

    /// Blocks of a container of paragraphs and tables.
    func blocks(_ container: XMLTreeNode) -> [Block] {
        var out: [Block] = []
        var list: [OfficeBlocks.PendingItem] = []
        var code: [String] = []
        func flush() {
            if !list.isEmpty { out += OfficeBlocks.nest(list[...]); list = [] }
            if !code.isEmpty { out.append(.codeBlock(language: nil, code.joined(separator: "\n") + "\n")); code = [] }
        }
        for node in container.children {
            switch node.name {
            case "p":
                let (kind, pieces, extra) = paragraph(node)
                for (i, piece) in pieces.enumerated() {
                    if i > 0 { flush(); out.append(.pageBreak) }
                    guard !piece.isEmpty else { continue }
                    switch kind {
                    case .heading(let level): flush(); out.append(.heading(level: level, piece))
                    case .item(let level, let ordered, let start):
                        if !code.isEmpty { flush() }
                        list.append(OfficeBlocks.PendingItem(level: level, ordered: ordered, start: start, content: piece))
                    case .code: if !list.isEmpty { flush() }; code.append(Inline.plainText(piece))
                    case .plain: flush(); out.append(.paragraph(piece))
                    }
                }
                if !extra.isEmpty { flush(); out += extra }
            case "tbl":
                flush()
                if let t = table(node) { out.append(t) }
            case "sdt":
                if let c = node.child("sdtContent") { flush(); out += blocks(c) }
            case "customXml", "ins", "moveTo", "txbxContent":
                flush(); out += blocks(node)
            case "AlternateContent":
                if let c = node.child("Choice") { flush(); out += blocks(c) }
            default:
                continue
            }
        }
        flush()
        return out
    }

    enum ParagraphKind {
        case plain, code
        case heading(Int)
        case item(level: Int, ordered: Bool, start: Int)
    }

    /// A paragraph: its kind, its inlines split at page breaks, and blocks it anchors (text boxes).
    func paragraph(_ p: XMLTreeNode) -> (ParagraphKind, [[Inline]], [Block]) {
        let pPr = p.child("pPr")
        let styleId = pPr?.child("pStyle")?.attr("val") ?? styles.defaultParagraph
        var kind = ParagraphKind.plain
        let direct = pPr?.child("outlineLvl")?.attr("val").flatMap(Int.init).flatMap { $0 < 9 ? min($0 + 1, 6) : nil }
        if let level = direct ?? styles.headingLevel(styleId) {
            kind = .heading(level)
        } else {
            var num = styles.numbering(styleId)
            if let n = pPr?.child("numPr"), let id = n.child("numId")?.attr("val") {
                num = (id, n.child("ilvl")?.attr("val").flatMap(Int.init) ?? 0)
            }
            if let (id, ilvl) = num, let level = numbering.level(numId: id, ilvl: ilvl), !level.none {
                kind = .item(level: min(max(ilvl, 0), 8), ordered: level.ordered, start: level.start)
            } else if styles.format(styleId).code == true {
                kind = .code
            }
        }
        var runs = DOCXRuns(body: self, base: styles.format(styleId))
        runs.content(p)
        return (kind, runs.pieces(), runs.extra)
    }

    /// A table; merged cells flattened (the value in the first cell), nested tables as text.
    func table(_ tbl: XMLTreeNode) -> Block? {
        var rows: [[[Inline]]] = []
        func rowNodes(_ n: XMLTreeNode, _ out: inout [XMLTreeNode]) {
            for c in n.children {
                if c.is("tr") { out.append(c) } else if c.is("sdt") || c.is("customXml") || c.is("sdtContent") { rowNodes(c, &out) }
            }
        }
        func cellNodes(_ n: XMLTreeNode, _ out: inout [XMLTreeNode]) {
            for c in n.children {
                if c.is("tc") { out.append(c) } else if c.is("sdt") || c.is("customXml") || c.is("sdtContent") { cellNodes(c, &out) }
            }
        }
        var trs: [XMLTreeNode] = []
        rowNodes(tbl, &trs)
        for tr in trs {
            var cells: [[Inline]] = []
            let before = tr.child("trPr")?.child("gridBefore")?.attr("val").flatMap(Int.init) ?? 0
            cells += Array(repeating: [], count: min(max(before, 0), 64))
            var tcs: [XMLTreeNode] = []
            cellNodes(tr, &tcs)
            for tc in tcs {
                let tcPr = tc.child("tcPr")
                let span = min(max(tcPr?.child("gridSpan")?.attr("val").flatMap(Int.init) ?? 1, 1), 64)
                if let vm = tcPr?.child("vMerge"), vm.attr("val") != "restart" {
                    cells.append([]); mergedCells += 1
                } else {
                    cells.append(cellInlines(tc))
                }
                for _ in 1..<span { cells.append([]); mergedCells += 1 }
            }
            rows.append(cells)
        }
        guard let width = rows.map(\.count).max(), width > 0 else { return nil }
        rows = rows.map { $0 + Array(repeating: [], count: width - $0.count) }
        return .table(header: rows[0], alignments: Array(repeating: .none, count: width), rows: Array(rows.dropFirst()))
    }

    /// A cell's blocks flattened into inlines, one line per paragraph.
    private func cellInlines(_ tc: XMLTreeNode) -> [Inline] {
        var out: [Inline] = []
        func line(_ xs: [Inline]) {
            guard !xs.isEmpty else { return }
            if !out.isEmpty { out.append(.lineBreak) }
            out += xs
        }
        func flatten(_ bs: [Block]) {
            for b in bs {
                switch b {
                case .paragraph(let xs), .heading(_, let xs): line(xs)
                case .codeBlock(_, let s): line([.code(s.trimmingCharacters(in: .newlines))])
                case .list(_, _, _, let items): for item in items { flatten(item.blocks) }
                case .blockQuote(let inner): flatten(inner)
                case .table(let header, _, let rows):
                    for r in [header] + rows { line([.text(r.map(Inline.plainText).filter { !$0.isEmpty }.joined(separator: " | "))]) }
                case .thematicBreak, .pageBreak, .raw: break
                }
            }
        }
        flatten(blocks(tc))
        return out
    }

    // MARK: Notes

    /// Footnotes or endnotes by id (separators skipped).
    func readNotes(_ root: XMLTreeNode, kind: String, rels noteRels: [String: OfficePackage.Relationship]) {
        let saved = rels
        rels = noteRels
        defer { rels = saved }
        for n in root.children where n.name == kind {
            guard let id = n.attr("id"), n.attr("type").map({ $0 == "normal" }) ?? true else { continue }
            var content: [Inline] = []
            for b in blocks(n) {
                if case .paragraph(let xs) = b {
                    if !content.isEmpty { content.append(.lineBreak) }
                    content += xs
                }
            }
            notes[kind + ":" + id] = content
        }
    }

    /// The marker for a note reference, numbered in order of first reference.
    func noteMarker(kind: String, id: String) -> Inline {
        let key = kind + ":" + id
        let n = (noteOrder.firstIndex(of: key) ?? { noteOrder.append(key); return noteOrder.count - 1 }()) + 1
        return .text("[\(n)]")
    }

    /// The referenced notes as a numbered list after a rule.
    func noteBlocks() -> [Block] {
        guard !noteOrder.isEmpty else { return [] }
        let items = noteOrder.map { ListItem(blocks: [.paragraph(notes[$0] ?? [])]) }
        return [.thematicBreak, .list(ordered: true, start: 1, tight: true, items)]
    }
}
