import DocFlowModel

/// A standalone HTML5 page with a small readable stylesheet (option `fragment: true`: the body's
/// content only, for embedding). Everything is escaped; raw HTML from
/// the source is left out (as cmark-gfm does without its unsafe option) with a warning, and links
/// with script-capable schemes are dropped.
public struct HTMLWriter: Writer {
    public let format = Format.html
    public let accepts: Set<Hub> = [.document, .table]
    public let options = [DocumentOptions.fragment]
    public init() {}

    static let style = """
    body{font:16px/1.55 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
    pre{background:#f4f4f4;padding:.75rem;overflow:auto}code{font-family:ui-monospace,monospace}
    table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.25rem .5rem}
    blockquote{border-left:4px solid #ddd;margin-left:0;padding-left:1rem;color:#555}
    @media (prefers-color-scheme:dark){body{background:#161616;color:#e8e8e8}pre{background:#262626}}
    """

    public func write(_ payload: Payload, context: ConversionContext) throws -> [UInt8] {
        let doc = payload.asDocument
        var body = HTMLBody(context: context)
        body.blocks(doc.blocks)
        if context.options.bool(DocumentOptions.fragment) == true { return Array(body.out.utf8) }
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<title>\(Self.escape(doc.metadata.title ?? "Document"))</title>\n"
        out += "<style>\n\(Self.style)\n</style>\n</head>\n<body>\n"
        out += body.out
        out += "</body>\n</html>\n"
        return Array(out.utf8)
    }

    /// A URL for an href or src attribute: bytes outside the URL-safe set are percent-encoded
    /// (UTF-8), existing escapes are kept, `&` and `'` become entities — as CommonMark renders.
    public static func escapeHref(_ url: String) -> String {
        var out = ""
        out.reserveCapacity(url.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for b in url.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                out.unicodeScalars.append(UnicodeScalar(b))
            case UInt8(ascii: "&"): out += "&amp;"
            case UInt8(ascii: "'"): out += "&#x27;"
            default:
                if "-_.+!*(),%#@?=;:/$~".utf8.contains(b) {
                    out.unicodeScalars.append(UnicodeScalar(b))
                } else {
                    out.unicodeScalars.append("%")
                    out.unicodeScalars.append(UnicodeScalar(hex[Int(b >> 4)]))
                    out.unicodeScalars.append(UnicodeScalar(hex[Int(b & 15)]))
                }
            }
        }
        return out
    }

    /// Text escaped for HTML content and attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// URLs with schemes that can run script are refused (cmark-gfm's safe-mode rule).
    static func isSafe(url: String, image: Bool = false) -> Bool {
        let lower = url.lowercased().trimmingCharacters(in: .whitespaces)
        if lower.hasPrefix("data:") {
            return image && ["data:image/png", "data:image/gif", "data:image/jpeg", "data:image/webp"].contains { lower.hasPrefix($0) }
        }
        return !["javascript:", "vbscript:", "file:"].contains { lower.hasPrefix($0) }
    }
}

private struct HTMLBody {
    let context: ConversionContext
    var out = ""

    init(context: ConversionContext) { self.context = context }

    mutating func blocks(_ blocks: [Block], tight: Bool = false) {
        for b in blocks { block(b, tight: tight) }
    }

    mutating func block(_ b: Block, tight: Bool) {
        switch b {
        case .heading(let level, let inl):
            let l = min(max(level, 1), 6)
            out += "<h\(l)>"; inlines(inl); out += "</h\(l)>\n"
        case .paragraph(let inl):
            if tight { inlines(inl); out += "\n" } else { out += "<p>"; inlines(inl); out += "</p>\n" }
        case .blockQuote(let bs):
            out += "<blockquote>\n"; blocks(bs); out += "</blockquote>\n"
        case .list(let ordered, let start, let isTight, let items):
            if ordered { out += start == 1 ? "<ol>\n" : "<ol start=\"\(start)\">\n" } else { out += "<ul>\n" }
            for item in items {
                out += "<li>"
                if let checked = item.checked { out += checked ? "<input type=\"checkbox\" checked disabled> " : "<input type=\"checkbox\" disabled> " }
                if !isTight { out += "\n" }
                blocks(item.blocks, tight: isTight)
                if out.hasSuffix("\n"), isTight { out.removeLast() }
                out += "</li>\n"
            }
            out += ordered ? "</ol>\n" : "</ul>\n"
        case .codeBlock(let lang, let code):
            out += lang.map { "<pre><code class=\"language-\(HTMLWriter.escape($0))\">" } ?? "<pre><code>"
            out += HTMLWriter.escape(code) + "</code></pre>\n"
        case .thematicBreak: out += "<hr>\n"
        case .table(let header, let aligns, let rows):
            out += "<table>\n"
            if !header.isEmpty {
                out += "<thead>\n<tr>\n"
                for (i, cell) in header.enumerated() { self.cell("th", cell, aligns, i) }
                out += "</tr>\n</thead>\n"
            }
            if !rows.isEmpty {
                out += "<tbody>\n"
                for row in rows {
                    out += "<tr>\n"
                    for (i, cell) in row.enumerated() { self.cell("td", cell, aligns, i) }
                    out += "</tr>\n"
                }
                out += "</tbody>\n"
            }
            out += "</table>\n"
        case .pageBreak: out += "<hr class=\"page-break\">\n"
        case .raw(let format, _):
            context.warn("Raw \(format) content was left out of the HTML output for safety.")
            out += "<!-- raw \(format) omitted -->\n"
        }
    }

    mutating func cell(_ tag: String, _ content: [Inline], _ aligns: [Alignment], _ i: Int) {
        let align = i < aligns.count ? aligns[i] : .none
        out += align == .none ? "<\(tag)>" : "<\(tag) align=\"\(align.rawValue)\">"
        inlines(content)
        out += "</\(tag)>\n"
    }

    mutating func inlines(_ inlines: [Inline]) {
        for i in inlines { inline(i) }
    }

    mutating func inline(_ i: Inline) {
        switch i {
        case .text(let s): out += HTMLWriter.escape(s)
        case .emphasis(let c): out += "<em>"; inlines(c); out += "</em>"
        case .strong(let c): out += "<strong>"; inlines(c); out += "</strong>"
        case .strikethrough(let c): out += "<del>"; inlines(c); out += "</del>"
        case .underline(let c): out += "<u>"; inlines(c); out += "</u>"
        case .code(let s): out += "<code>" + HTMLWriter.escape(s) + "</code>"
        case .link(let url, let title, let c):
            let href = HTMLWriter.isSafe(url: url) ? HTMLWriter.escapeHref(url) : ""
            if href.isEmpty && !url.isEmpty { context.warn("A link with an unsafe URL scheme was neutralised.") }
            out += "<a href=\"\(href)\"" + (title.map { " title=\"\(HTMLWriter.escape($0))\"" } ?? "") + ">"
            inlines(c); out += "</a>"
        case .image(let url, let title, let alt):
            let src = HTMLWriter.isSafe(url: url, image: true) ? HTMLWriter.escapeHref(url) : ""
            out += "<img src=\"\(src)\" alt=\"\(HTMLWriter.escape(Inline.plainText(alt)))\""
            out += (title.map { " title=\"\(HTMLWriter.escape($0))\"" } ?? "") + ">"
        case .softBreak: out += "\n"
        case .lineBreak: out += "<br>\n"
        case .math(let tex, let text, let display):
            // Readable as it is; the TeX source rides along for a math renderer.
            out += "<span class=\"math\(display ? " display" : "")\" data-tex=\"\(HTMLWriter.escape(tex))\">\(HTMLWriter.escape(text))</span>"
        case .raw(let format, _):
            context.warn("Raw \(format) content was left out of the HTML output for safety.")
        }
    }
}
