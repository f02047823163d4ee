import DocFlowModel
import Foundation

/// The inline content of one Word paragraph: runs grouped by formatting and link, complex-field
/// instructions hidden (their results shown; a HYPERLINK field becomes a link), page breaks
/// splitting the paragraph, images, note markers, and text boxes collected as extra blocks.
struct DOCXRuns {
    private let body: DOCXBody
    private let base: RunFormat

    private enum Piece { case inline(Inline), text(String), pageBreak }
    private struct Span { var piece: Piece; var format: RunFormat; var link: String? }
    private var spans: [Span] = []
    /// Open complex fields: the instruction so far, and whether the result part has begun.
    private var fields: [(instruction: String, result: Bool, link: String?)] = []
    private(set) var extra: [Block] = []

    init(body: DOCXBody, base: RunFormat) {
        self.body = body
        self.base = base
    }

    private var hidden: Bool { fields.contains { !$0.result } }
    private var fieldLink: String? { fields.last { $0.link != nil }?.link }

    mutating func content(_ node: XMLTreeNode, link: String? = nil) {
        for c in node.children {
            switch c.name {
            case "r": run(c, link: link)
            case "hyperlink":
                var url: String?
                if let id = c.attr("id"), let rel = body.rels[id] { url = rel.target }
                if let anchor = c.attr("anchor") { url = (url ?? "") + "#" + anchor }
                content(c, link: url.flatMap(OfficeBlocks.safeLink) ?? link)
            case "ins", "moveTo", "smartTag", "customXml", "bdo", "dir", "fldSimple", "sdtContent": content(c, link: link)
            case "sdt": if let sc = c.child("sdtContent") { content(sc, link: link) }
            case "AlternateContent": if let choice = c.child("Choice") { content(choice, link: link) }
            case "oMath": append(.inline(OfficeMath.inline(c, display: false)), format: base, link: link)
            case "oMathPara":
                for m in c.children where m.is("oMath") { append(.inline(OfficeMath.inline(m, display: true)), format: base, link: link) }
            default: continue  // pPr, del, moveFrom, bookmarks, proofing and comment marks
            }
        }
    }

    private mutating func run(_ r: XMLTreeNode, link: String?) {
        let rPr = r.child("rPr")
        let format = base.merged(body.styles.format(rPr?.child("rStyle")?.attr("val"))).merged(RunFormat(rPr))
        for c in r.children {
            let target = fieldLink ?? link
            switch c.name {
            case "t": if !hidden { append(.text(c.text), format: format, link: target) }
            case "tab", "ptab": if !hidden { append(.text("\t"), format: format, link: target) }
            case "noBreakHyphen": if !hidden { append(.text("-"), format: format, link: target) }
            case "br":
                if c.attr("type") == "page" { spans.append(Span(piece: .pageBreak, format: format, link: nil)) }
                else if !hidden { append(.inline(.lineBreak), format: format, link: target) }
            case "cr": if !hidden { append(.inline(.lineBreak), format: format, link: target) }
            case "fldChar":
                switch c.attr("fldCharType") {
                case "begin": fields.append(("", false, nil))
                case "separate":
                    if var f = fields.popLast() {
                        f.result = true
                        f.link = Self.hyperlinkField(f.instruction)
                        fields.append(f)
                    }
                case "end": _ = fields.popLast()
                default: break
                }
            case "instrText":
                if var f = fields.popLast() { f.instruction += c.text; fields.append(f) }
            case "footnoteReference", "endnoteReference":
                if let id = c.attr("id") {
                    append(.inline(body.noteMarker(kind: c.name == "footnoteReference" ? "footnote" : "endnote", id: id)), format: format, link: nil)
                }
            case "drawing", "pict", "AlternateContent", "object":
                guard !hidden else { continue }
                let node = c.is("AlternateContent") ? (c.child("Choice") ?? c) : c
                for image in body.images.images(in: node, rels: body.rels) { append(.inline(image), format: format, link: target) }
                var boxes: [XMLTreeNode] = []
                node.descendants("txbxContent", into: &boxes)
                for box in boxes { extra += body.blocks(box) }
                extra += OfficeDiagram.blocks(in: node, rels: body.rels, package: body.package, context: body.context)
                    ?? OfficeChart.blocks(in: node, rels: body.rels, package: body.package)
            default: continue  // rPr, delText, footnoteRef marks, sym, lastRenderedPageBreak
            }
        }
    }

    private mutating func append(_ piece: Piece, format: RunFormat, link: String?) {
        if case .text(let s) = piece, let last = spans.last, case .text(let prev) = last.piece,
           last.format == format, last.link == link {
            spans[spans.count - 1].piece = .text(prev + s)
            return
        }
        spans.append(Span(piece: piece, format: format, link: link))
    }

    /// The paragraph's inlines, split at page breaks; leading and trailing blanks trimmed.
    func pieces() -> [[Inline]] {
        var out: [[Inline]] = []
        var current: [Inline] = []
        var i = 0
        while i < spans.count {
            if case .pageBreak = spans[i].piece {
                out.append(Self.trim(current)); current = []; i += 1; continue
            }
            if let url = spans[i].link {
                var j = i
                var inner: [Inline] = []
                while j < spans.count, spans[j].link == url {
                    if case .pageBreak = spans[j].piece { break }
                    inner.append(Self.styled(spans[j]))
                    j += 1
                }
                current.append(.link(url: url, title: nil, inner))
                i = j
            } else {
                current.append(Self.styled(spans[i]))
                i += 1
            }
        }
        out.append(Self.trim(current))
        return out
    }

    private static func styled(_ span: Span) -> Inline {
        var x: Inline
        switch span.piece {
        case .text(let s): x = span.format.code == true ? .code(s) : .text(s)
        case .inline(let i): x = i
        case .pageBreak: x = .text("")
        }
        if case .code = x { return x }
        let f = span.format
        if f.underline == true, span.link == nil { x = .underline([x]) }  // links are underlined anyway
        if f.strike == true { x = .strikethrough([x]) }
        if f.italic == true { x = .emphasis([x]) }
        if f.bold == true { x = .strong([x]) }
        return x
    }

    /// An all-blank paragraph (no text but spaces, no image) becomes empty.
    private static func trim(_ xs: [Inline]) -> [Inline] {
        func visible(_ xs: [Inline]) -> Bool {
            xs.contains { x in
                switch x {
                case .text(let s), .code(let s): return s.utf8.contains { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
                case .emphasis(let c), .strong(let c), .strikethrough(let c), .underline(let c), .link(_, _, let c): return visible(c)
                case .image, .math: return true
                case .softBreak, .lineBreak, .raw: return false
                }
            }
        }
        return visible(xs) ? xs : []
    }

    /// The target of a `HYPERLINK "url"` field instruction.
    static func hyperlinkField(_ instruction: String) -> String? {
        let parts = instruction.trimmingCharacters(in: .whitespaces)
        guard parts.uppercased().hasPrefix("HYPERLINK") else { return nil }
        let quoted = parts.split(separator: "\"", omittingEmptySubsequences: false)
        if quoted.count >= 3 { return OfficeBlocks.safeLink(String(quoted[1])) }
        return parts.split(separator: " ").dropFirst().first.map(String.init).flatMap(OfficeBlocks.safeLink)
    }
}
