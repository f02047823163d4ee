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
                let texts = (0..<width).map { i in i < cells.count ? inlines(cells[i]).replacingNewlines().replacingOccurrences(of: "|", with: "\\|") : "" }
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

    func inlines(_ inl: [Inline]) -> String {
        var s = ""
        for i in inl { s += inline(i) }
        return s
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
