import CLibXML2
import DocFlowModel

/// Maps an HTML tree to blocks and inlines. Main content is kept; scripts, styles, forms and
/// comments are dropped; unknown containers are transparent. Nesting deeper than `maxDepth` is
/// flattened to its text, so hostile input cannot exhaust the stack here or in the writers.
struct HTMLTreeWalker {
    let context: ConversionContext
    var title: String?
    var depth = 0
    static let maxDepth = 64

    static let dropped: Set<String> = ["script", "style", "noscript", "template", "head", "iframe", "object",
                                       "embed", "form", "button", "select", "textarea", "svg", "canvas", "nav"]
    static let blockNames: Set<String> = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "pre",
                                          "hr", "table", "div", "section", "article", "main", "header", "footer",
                                          "aside", "figure", "figcaption", "dl", "dt", "dd", "li", "body", "html",
                                          "address", "details", "summary", "center", "fieldset"]

    init(context: ConversionContext) { self.context = context }

    mutating func document(_ root: xmlNodePtr) -> [Block] {
        findTitle(root)
        return blocks(in: root)
    }

    private mutating func findTitle(_ n: xmlNodePtr) {
        for c in XMLNode.children(n) where XMLNode.isElement(c) {
            if XMLNode.name(c) == "head" {
                for t in XMLNode.children(c) where XMLNode.name(t) == "title" {
                    let s = Self.collapse(Self.allText(t)).trimmed
                    if !s.isEmpty { title = s }
                }
            }
        }
    }

    /// Blocks of a container: runs of inline content become paragraphs.
    mutating func blocks(in n: xmlNodePtr) -> [Block] {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth {
            context.warn("HTML nested more than \(Self.maxDepth) levels deep was flattened to plain text.")
            let t = Self.collapse(Self.allText(n)).trimmed
            return t.isEmpty ? [] : [.paragraph([.text(t)])]
        }
        var out: [Block] = []
        var run: [Inline] = []
        func endRun() {
            let trimmed = Self.trim(run)
            if !trimmed.isEmpty { out.append(.paragraph(trimmed)) }
            run.removeAll()
        }
        for c in XMLNode.children(n) {
            if XMLNode.isElement(c), Self.blockNames.contains(XMLNode.name(c)) || Self.dropped.contains(XMLNode.name(c)) {
                endRun()
                out += block(c)
            } else {
                run += inlines(c)
            }
        }
        endRun()
        return out
    }

    mutating func block(_ n: xmlNodePtr) -> [Block] {
        let name = XMLNode.name(n)
        switch name {
        case _ where Self.dropped.contains(name): return []
        case "h1", "h2", "h3", "h4", "h5", "h6":
            return [.heading(level: Int(String(name.last!))!, Self.trim(inlineChildren(n)))]
        case "p", "dt", "summary", "figcaption":
            let inl = Self.trim(inlineChildren(n))
            return inl.isEmpty ? [] : [.paragraph(inl)]
        case "blockquote": return [.blockQuote(blocks(in: n))]
        case "ul", "ol":
            let items = XMLNode.children(n).filter { XMLNode.isElement($0) && XMLNode.name($0) == "li" }.map { li -> ListItem in
                var checked: Bool?
                for c in XMLNode.children(li) where XMLNode.name(c) == "input" && XMLNode.attribute(c, "type")?.lowercased() == "checkbox" {
                    checked = XMLNode.attribute(c, "checked") != nil
                }
                return ListItem(blocks: blocks(in: li), checked: checked)
            }
            let start = XMLNode.attribute(n, "start").flatMap { Int($0) } ?? 1
            // Loose when an item holds paragraphs (<li><p>…), as Markdown renderers write it.
            let tight = !XMLNode.children(n).contains { li in XMLNode.children(li).contains { XMLNode.name($0) == "p" } }
            return [.list(ordered: name == "ol", start: start, tight: tight, items)]
        case "pre":
            let code = XMLNode.children(n).first { XMLNode.name($0) == "code" }
            let cls = code.flatMap { XMLNode.attribute($0, "class") } ?? XMLNode.attribute(n, "class") ?? ""
            let lang = cls.split(separator: " ").first { $0.hasPrefix("language-") }.map { String($0.dropFirst(9)) }
            var text = Self.allText(n)
            if text.hasPrefix("\n") { text.removeFirst() }
            if !text.hasSuffix("\n") { text += "\n" }
            return [.codeBlock(language: lang, text)]
        case "hr": return [.thematicBreak]
        case "table": return [table(n)]
        default: return blocks(in: n)
        }
    }

    mutating func table(_ n: xmlNodePtr) -> Block {
        var rows: [xmlNodePtr] = []
        func collect(_ node: xmlNodePtr) {
            for c in XMLNode.children(node) where XMLNode.isElement(c) {
                switch XMLNode.name(c) {
                case "tr": rows.append(c)
                case "thead", "tbody", "tfoot": collect(c)
                default: break
                }
            }
        }
        collect(n)
        var header: [[Inline]] = []
        var body: [[[Inline]]] = []
        var aligns: [Alignment] = []
        for (i, tr) in rows.enumerated() {
            let cells = XMLNode.children(tr).filter { XMLNode.isElement($0) && ["td", "th"].contains(XMLNode.name($0)) }
            if cells.contains(where: { XMLNode.attribute($0, "colspan") != nil || XMLNode.attribute($0, "rowspan") != nil }) {
                context.warn("Merged table cells were flattened.")
            }
            let content = cells.map { cellInlines($0) }
            if i == 0 && cells.allSatisfy({ XMLNode.name($0) == "th" }) {
                header = content
                aligns = cells.map { c in
                    switch XMLNode.attribute(c, "align")?.lowercased() ?? "" {
                    case "left": return .left
                    case "center": return .center
                    case "right": return .right
                    default: return .none
                    }
                }
            } else {
                body.append(content)
            }
        }
        return .table(header: header, alignments: aligns, rows: body)
    }

    /// A table cell's content as inlines: its block-level parts (paragraphs, list items, divs)
    /// on lines of their own, list items marked `• ` or `1. `, the lines joined by line breaks
    /// (a cell holds no blocks in the model).
    mutating func cellInlines(_ cell: xmlNodePtr) -> [Inline] {
        var lines: [[Inline]] = []
        var current: [Inline] = []
        cellLines(cell, lines: &lines, current: &current)
        if !Self.trim(current).isEmpty { lines.append(Self.trim(current)) }
        return Array(lines.map { [$0] }.joined(separator: [[Inline.lineBreak]]).joined())
    }

    private static let cellBlocks: Set<String> = ["p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "li",
                                                  "dl", "dt", "dd", "section", "article", "header", "footer", "figure", "figcaption"]

    private mutating func cellLines(_ n: xmlNodePtr, lines: inout [[Inline]], current: inout [Inline]) {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth { current.append(.text(Self.collapse(Self.allText(n)))); return }
        func flush() {
            let t = Self.trim(current)
            if !t.isEmpty { lines.append(t) }
            current = []
        }
        for c in XMLNode.children(n) {
            guard XMLNode.isElement(c) else { current += inlines(c); continue }
            let name = XMLNode.name(c)
            if name == "ul" || name == "ol" {
                flush()
                var number = Int(XMLNode.attribute(c, "start") ?? "") ?? 1
                for li in XMLNode.children(c) where XMLNode.isElement(li) && XMLNode.name(li) == "li" {
                    var sub: [[Inline]] = []
                    var rest: [Inline] = []
                    cellLines(li, lines: &sub, current: &rest)
                    if !Self.trim(rest).isEmpty { sub.append(Self.trim(rest)) }
                    let marker = name == "ol" ? "\(number). " : "• "
                    number += 1
                    if let first = sub.first { lines.append([.text(marker)] + first); lines += sub.dropFirst() }
                }
            } else if name == "br" {
                current.append(.lineBreak)
            } else if Self.cellBlocks.contains(name) {
                flush()
                cellLines(c, lines: &lines, current: &current)
                flush()
            } else {
                current += inlines(c)
            }
        }
    }

    mutating func inlineChildren(_ n: xmlNodePtr) -> [Inline] {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth { return [.text(Self.collapse(Self.allText(n)))] }
        return XMLNode.children(n).flatMap { inlines($0) }
    }

    mutating func inlines(_ n: xmlNodePtr) -> [Inline] {
        if XMLNode.isText(n) { return [.text(Self.collapse(XMLNode.text(n)))] }
        guard XMLNode.isElement(n) else { return [] }  // comments, processing instructions
        let name = XMLNode.name(n)
        switch name {
        case _ where Self.dropped.contains(name): return []
        case "br": return [.lineBreak]
        case "em", "i", "cite", "dfn": return [.emphasis(inlineChildren(n))]
        case "strong", "b": return [.strong(inlineChildren(n))]
        case "del", "s", "strike": return [.strikethrough(inlineChildren(n))]
        case "code", "kbd", "samp", "tt": return [.code(Self.collapse(Self.allText(n)))]
        case "a":
            let inner = inlineChildren(n)
            guard let href = XMLNode.attribute(n, "href"), !href.isEmpty else { return inner }
            return [.link(url: href, title: XMLNode.attribute(n, "title"), inner)]
        case "img":
            guard let src = XMLNode.attribute(n, "src") else { return [] }
            return [.image(url: src, title: XMLNode.attribute(n, "title"), alt: [.text(XMLNode.attribute(n, "alt") ?? "")])]
        case "input": return []
        default: return inlineChildren(n)
        }
    }

    /// All text below a node (iterative, so depth does not matter).
    static func allText(_ n: xmlNodePtr) -> String {
        var out = ""
        var stack: [xmlNodePtr] = XMLNode.children(n).reversed()
        while let node = stack.popLast() {
            if XMLNode.isText(node) { out += XMLNode.text(node) }
            if XMLNode.isElement(node), !dropped.contains(XMLNode.name(node)) {
                if XMLNode.name(node) == "br" { out += "\n" }
                stack += XMLNode.children(node).reversed()
            }
        }
        return out
    }

    /// HTML whitespace collapsing: any run of spaces, tabs and newlines is one space.
    static func collapse(_ s: String) -> String {
        var out = ""
        var space = false
        for c in s.unicodeScalars {
            if c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0C}" {
                if !space { out.unicodeScalars.append(" "); space = true }
            } else {
                out.unicodeScalars.append(c)
                space = false
            }
        }
        return out
    }

    /// Inlines without leading/trailing spaces, and without a space before or after a line break.
    static func trim(_ inl: [Inline]) -> [Inline] {
        var out = inl.filter { if case .text(let t) = $0 { return !t.isEmpty } else { return true } }
        if case .text(let t)? = out.first { let s = String(t.drop { $0 == " " }); out[0] = .text(s); if s.isEmpty { out.removeFirst() } }
        if case .text(let t)? = out.last {
            var s = t
            while s.last == " " { s.removeLast() }
            out[out.count - 1] = .text(s)
            if s.isEmpty { out.removeLast() }
        }
        return out
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
