import DocFlowModel

/// GitHub Flavored Markdown from the document model: ATX headings, `-` / `1.` lists with task
/// boxes, fenced code, GFM tables with alignment, `~~` strikethrough. Text is escaped so that it
/// reads back as the same text; writing what the Markdown reader made of this output gives the
/// same output again (Markdown → Markdown is stable).
public struct MarkdownWriter: Writer {
    public let format = Format.markdown
    public let accepts: Set<Hub> = [.document, .table]
    public init() {}

    public func write(_ payload: Payload, context: ConversionContext) throws -> [UInt8] {
        var w = MarkdownText(context: context)
        w.blocks(payload.asDocument.blocks, prefix: "")
        var out = w.out
        while out.hasSuffix("\n\n") { out.removeLast() }
        return Array(out.utf8)
    }
}

private struct MarkdownText {
    let context: ConversionContext
    var out = ""

    init(context: ConversionContext) { self.context = context }

    static let embeddedImagesDropped = "Embedded images are left out of Markdown output (their alt text is kept); HTML and PDF output embed them."

    /// Writes blocks separated by blank lines; every line starts with `prefix` (quotes, list indent).
    mutating func blocks(_ all: [Block], prefix: String, tight: Bool = false) {
        var previousListMarker: String?
        // A paragraph of nothing but embedded pictures without alt text leaves nothing behind.
        let blocks = all.filter { b in
            guard case .paragraph(let xs) = b, !xs.isEmpty else { return true }
            return !xs.allSatisfy { x in
                switch x {
                case .image(let url, _, let alt): return url.hasPrefix("data:") && Inline.plainText(alt).isEmpty
                case .softBreak, .lineBreak: return true
                case .text(let t): return t.allSatisfy(\.isWhitespace)
                default: return false
                }
            }
        }
        if blocks.count < all.count {
            context.warn(Self.embeddedImagesDropped)
        }
        for (i, b) in blocks.enumerated() {
            if i > 0 { out += tight ? "" : prefix.trimmingTrailingSpaces() + "\n" }
            // Two lists in a row stay two lists only with different markers (CommonMark).
            if case .list(let ordered, _, _, _) = b {
                let markers = ordered ? [".", ")"] : ["-", "*"]
                let marker = previousListMarker == markers[0] ? markers[1] : markers[0]
                listMarker = marker
                block(b, prefix: prefix, tight: tight)
                previousListMarker = marker
            } else {
                block(b, prefix: prefix, tight: tight)
                previousListMarker = nil
            }
        }
    }

    /// The bullet or the ordered-list delimiter of the list being written.
    private var listMarker = "-"

    mutating func line(_ text: String, prefix: String) {
        out += prefix + text + "\n"
    }

    mutating func block(_ b: Block, prefix: String, tight: Bool) {
        switch b {
        case .heading(let level, let inl):
            line(String(repeating: "#", count: min(max(level, 1), 6)) + " " + inlines(inl).replacingNewlines(), prefix: prefix)
        case .paragraph(let inl):
            for l in inlines(inl).split(separator: "\n", omittingEmptySubsequences: false) {
                // Leading blanks would make an indented code block; a line of = or - would turn the
                // line above into a heading.
                var text = String(l.drop { $0 == " " || $0 == "\t" })
                if let f = text.first, f == "=" || f == "-", text.allSatisfy({ $0 == f || $0 == " " }) { text = "\\" + text }
                line(text, prefix: prefix)
            }
        case .blockQuote(let bs):
            blocks(bs, prefix: prefix + "> ")
        case .list(let ordered, let start, let isTight, let items):
            for (n, item) in items.enumerated() {
                let marker = ordered ? "\(start + n)\(listMarker) " : "\(listMarker) "
                let box = item.checked.map { $0 ? "[x] " : "[ ] " } ?? ""
                let indent = String(repeating: " ", count: marker.count)
                var sub = MarkdownText(context: context)
                sub.blocks(item.blocks, prefix: "", tight: isTight)
                let text = sub.out.isEmpty ? "\n" : sub.out
                for (k, l) in text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    if k == 0 {
                        out += prefix + marker + box + l + "\n"
                    } else {
                        out += l.isEmpty ? prefix.trimmingTrailingSpaces() + "\n" : prefix + indent + l + "\n"
                    }
                }
                if !isTight && n < items.count - 1 { out += prefix.trimmingTrailingSpaces() + "\n" }
            }
        case .codeBlock(let lang, let code):
            var fence = "```"
            while code.contains(fence) { fence += "`" }
            line(fence + (lang ?? ""), prefix: prefix)
            for l in code.split(separator: "\n", omittingEmptySubsequences: false).dropLast(code.hasSuffix("\n") ? 1 : 0) {
                line(String(l), prefix: prefix)
            }
            line(fence, prefix: prefix)
        case .thematicBreak:
            line("---", prefix: prefix)
        case .table(let header, let aligns, let rows):
            let width = max(header.count, rows.map(\.count).max() ?? 0)
            func row(_ cells: [[Inline]]) -> String {
                // A cell's line breaks (list items, paragraphs) as <br>, which GFM tables allow.
                let texts = (0..<width).map { i in
                    i < cells.count ? inlines(cells[i]).replacingOccurrences(of: "\\\n", with: "<br>").replacingNewlines().replacingOccurrences(of: "|", with: "\\|") : ""
                }
                return "| " + texts.joined(separator: " | ") + " |"
            }
            line(row(header.isEmpty ? Array(repeating: [], count: width) : header), prefix: prefix)
            let rule = (0..<width).map { i -> String in
                switch i < aligns.count ? aligns[i] : .none {
                case .left: return ":---"
                case .center: return ":---:"
                case .right: return "---:"
                case .none: return "---"
                }
            }
            line("| " + rule.joined(separator: " | ") + " |", prefix: prefix)
            for r in rows { line(row(r), prefix: prefix) }
        case .pageBreak:
            line("---", prefix: prefix)
        case .raw(let format, let text):
            if format == "html" || format == "markdown" {
                for l in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0) {
                    line(String(l), prefix: prefix)
                }
            } else {
                context.warn("Raw \(format) content was left out of the Markdown output.")
            }
        }
    }

    /// Inlines as Markdown whose emphasis always parses back as emphasis: punctuation at the edge
    /// of a bold or italic run next to a letter (`**foo.**bar` would stay literal asterisks) is
    /// moved outside the run, and a run that still could not open or close (it ends in a link or
    /// code next to a letter) is written as HTML tags instead.
    func inlines(_ inl: [Inline]) -> String {
        let xs = Self.punctuationOutside(Inline.normalized(inl))
        var s = ""
        for (k, i) in xs.enumerated() {
            var piece = inline(i)
            if let (delimiter, tag) = Self.delimiter(i) {
                let next = k + 1 < xs.count ? inline(xs[k + 1]).first : nil
                if !Self.flanks(piece, delimiter: delimiter, before: s.last, after: next) {
                    piece = "<\(tag)>" + String(piece.dropFirst(delimiter.count).dropLast(delimiter.count)) + "</\(tag)>"
                }
            }
            s += piece
        }
        return s
    }

    private static func delimiter(_ i: Inline) -> (String, String)? {
        switch i {
        case .emphasis: return ("*", "em")
        case .strong: return ("**", "strong")
        case .strikethrough: return ("~~", "del")
        default: return nil
        }
    }

    private static func isPunctuation(_ c: Character) -> Bool { c.isPunctuation || c.isSymbol }

    /// CommonMark's flanking rules for a run `delimiter…delimiter` between `before` and `after`.
    private static func flanks(_ piece: String, delimiter: String, before: Character?, after: Character?) -> Bool {
        let content = piece.dropFirst(delimiter.count).dropLast(delimiter.count)
        guard let first = content.first, let last = content.last, !first.isWhitespace, !last.isWhitespace else { return false }
        let opens = !isPunctuation(first) || before == nil || before!.isWhitespace || isPunctuation(before!)
        let closes = !isPunctuation(last) || after == nil || after!.isWhitespace || isPunctuation(after!)
        return opens && closes
    }

    /// Moves punctuation at the edges of a formatted run outside it where a letter or digit
    /// touches it from outside.
    private static func punctuationOutside(_ xs: [Inline]) -> [Inline] {
        var out: [Inline] = []
        for (k, x) in xs.enumerated() {
            guard delimiter(x) != nil else { out.append(x); continue }
            var kids: [Inline]
            switch x {
            case .emphasis(let c), .strong(let c), .strikethrough(let c): kids = c
            default: out.append(x); continue
            }
            let before = out.last.map { Inline.plainText([$0]) }?.last
            let after = k + 1 < xs.count ? Inline.plainText([xs[k + 1]]).first : nil
            var lead = "", trail = ""
            if let b = before, b.isLetter || b.isNumber, case .text(let t)? = kids.first {
                let rest = t.drop(while: isPunctuation)
                lead = String(t.prefix(t.count - rest.count))
                if rest.isEmpty { kids.removeFirst() } else { kids[0] = .text(String(rest)) }
            }
            if let a = after, a.isLetter || a.isNumber, case .text(let t)? = kids.last {
                var rest = Substring(t)
                while let l = rest.last, isPunctuation(l) { rest = rest.dropLast() }
                trail = String(t.suffix(t.count - rest.count))
                if rest.isEmpty { kids.removeLast() } else { kids[kids.count - 1] = .text(String(rest)) }
            }
            if !lead.isEmpty { out.append(.text(lead)) }
            if !kids.isEmpty {
                switch x {
                case .emphasis: out.append(.emphasis(kids))
                case .strong: out.append(.strong(kids))
                default: out.append(.strikethrough(kids))
                }
            }
            if !trail.isEmpty { out.append(.text(trail)) }
        }
        return out
    }

    func inline(_ i: Inline) -> String {
        switch i {
        case .text(let t): return Self.escape(t)
        case .emphasis(let c): return "*" + inlines(c) + "*"
        case .strong(let c): return "**" + inlines(c) + "**"
        case .strikethrough(let c): return "~~" + inlines(c) + "~~"
        case .underline(let c): return "<u>" + inlines(c) + "</u>"
        case .code(let c):
            var ticks = "`"
            while c.contains(ticks) { ticks += "`" }
            let pad = c.hasPrefix("`") || c.hasSuffix("`") || (c.hasPrefix(" ") && c.hasSuffix(" ") && !c.allSatisfy { $0 == " " }) ? " " : ""
            return ticks + pad + c + pad + ticks
        case .link(let url, let title, let c):
            return "[" + inlines(c) + "](" + Self.destination(url) + (title.map { " \"" + $0.replacingOccurrences(of: "\"", with: "\\\"") + "\"" } ?? "") + ")"
        case .image(let url, _, let alt) where url.hasPrefix("data:"):
            // Embedded pictures (from DOCX and PPTX) would put megabytes of base64 into the text.
            context.warn(Self.embeddedImagesDropped)
            return inlines(alt)
        case .image(let url, let title, let alt):
            return "![" + inlines(alt) + "](" + Self.destination(url) + (title.map { " \"" + $0.replacingOccurrences(of: "\"", with: "\\\"") + "\"" } ?? "") + ")"
        case .softBreak: return "\n"
        case .lineBreak: return "\\\n"
        case .raw(let format, let text): return format == "html" ? text : ""
        case .math(let tex, _, let display): return display ? "$$" + tex + "$$" : "$" + tex + "$"
        }
    }

    /// Backslash-escapes the ASCII punctuation that could start or end Markdown syntax.
    static func escape(_ t: String) -> String {
        // Byte-level: every character escaped is ASCII, and UTF-8 never uses ASCII bytes inside a
        // multi-byte sequence, so copying bytes keeps the text valid.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(t.utf8.count + 8)
        for b in t.utf8 {
            switch b {
            case UInt8(ascii: "\\"), UInt8(ascii: "`"), UInt8(ascii: "*"), UInt8(ascii: "_"), UInt8(ascii: "["), UInt8(ascii: "]"),
                 UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "#"), UInt8(ascii: "!"), UInt8(ascii: "~"):
                bytes.append(UInt8(ascii: "\\"))
            default: break
            }
            bytes.append(b)
        }
        // A line that would read as a list item, heading or quote keeps its text.
        if bytes.count >= 2, bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+"), bytes[1] == 0x20 {
            bytes.insert(UInt8(ascii: "\\"), at: 0)
        }
        var digits = 0
        while digits < bytes.count, bytes[digits] >= 0x30, bytes[digits] <= 0x39 { digits += 1 }
        if digits > 0, digits < bytes.count, bytes[digits] == UInt8(ascii: ".") || bytes[digits] == UInt8(ascii: ")"),
           digits + 1 == bytes.count || bytes[digits + 1] == 0x20 {
            bytes.insert(UInt8(ascii: "\\"), at: digits)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func destination(_ url: String) -> String {
        url.contains(" ") || url.contains("(") || url.contains(")") ? "<" + url.replacingOccurrences(of: ">", with: "%3E") + ">" : url
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }

    func replacingNewlines() -> String {
        guard utf8.contains(0x0A) else { return self }
        return replacingOccurrences(of: "\\\n", with: " ").replacingOccurrences(of: "\n", with: " ")
    }
}
