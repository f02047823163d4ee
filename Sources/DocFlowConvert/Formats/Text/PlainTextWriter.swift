import DocFlowModel

/// Readable plain text: headings underlined (`=` for level 1, `-` for level 2) or marked with
/// `#`s, lists indented with their markers, code indented by four spaces, tables aligned in
/// columns, links as text followed by the URL in angle brackets, images as their alt text.
public struct PlainTextWriter: Writer {
    public let format = Format.text
    public let accepts: Set<Hub> = [.document, .table]
    public init() {}

    public func write(_ payload: Payload, context: ConversionContext) throws -> [UInt8] {
        var lines: [String] = []
        PlainTextWriter.blocks(payload.asDocument.blocks, indent: "", into: &lines)
        while lines.last == "" { lines.removeLast() }
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    static func blocks(_ blocks: [Block], indent: String, into lines: inout [String], tight: Bool = false) {
        for (i, b) in blocks.enumerated() {
            if i > 0 && !tight { lines.append("") }
            block(b, indent: indent, into: &lines)
        }
    }

    static func block(_ b: Block, indent: String, into lines: inout [String]) {
        switch b {
        case .heading(let level, let inl):
            let t = text(inl).replacingOccurrences(of: "\n", with: " ")
            if level <= 2 {
                lines.append(indent + t)
                lines.append(indent + String(repeating: level == 1 ? "=" : "-", count: max(3, t.count)))
            } else {
                lines.append(indent + String(repeating: "#", count: level) + " " + t)
            }
        case .paragraph(let inl):
            let t = text(inl)
            guard t.utf8.contains(0x0A) else { lines.append(indent + t); break }
            for l in t.split(separator: "\n", omittingEmptySubsequences: false) { lines.append(indent + l) }
        case .blockQuote(let bs):
            var sub: [String] = []
            blocks(bs, indent: "", into: &sub)
            for l in sub { lines.append(indent + "> " + l) }
        case .list(let ordered, let start, let tight, let items):
            for (n, item) in items.enumerated() {
                let marker = (ordered ? "\(start + n)." : "*") + " "
                let box = item.checked.map { $0 ? "[x] " : "[ ] " } ?? ""
                var sub: [String] = []
                blocks(item.blocks, indent: "", into: &sub, tight: tight)
                let pad = String(repeating: " ", count: marker.count)
                for (k, l) in (sub.isEmpty ? [""] : sub).enumerated() {
                    lines.append(indent + (k == 0 ? marker + box : (l.isEmpty ? "" : pad)) + l)
                }
                if !tight && n < items.count - 1 { lines.append("") }
            }
        case .codeBlock(_, let code):
            for l in code.split(separator: "\n", omittingEmptySubsequences: false).dropLast(code.hasSuffix("\n") ? 1 : 0) {
                lines.append(indent + "    " + l)
            }
        case .thematicBreak:
            lines.append(indent + String(repeating: "-", count: 40))
        case .pageBreak:
            lines.append("\u{0C}")  // a form feed, as pdftotext separates pages
        case .table(let header, let aligns, let rows):
            let all = (header.isEmpty ? [] : [header]) + rows
            let width = all.map(\.count).max() ?? 0
            let cells = all.map { r in (0..<width).map { $0 < r.count ? text(r[$0]).replacingOccurrences(of: "\n", with: " ") : "" } }
            let widths = (0..<width).map { c in cells.map { $0[c].count }.max() ?? 0 }
            func pad(_ s: String, _ c: Int) -> String {
                let space = String(repeating: " ", count: widths[c] - s.count)
                return c < aligns.count && aligns[c] == .right ? space + s : s + space
            }
            for (r, row) in cells.enumerated() {
                lines.append(indent + row.enumerated().map { pad($1, $0) }.joined(separator: "  ").trimmingTrailingSpaces())
                if r == 0 && !header.isEmpty {
                    lines.append(indent + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
                }
            }
        case .raw:
            break
        }
    }

    static func text(_ inl: [Inline]) -> String {
        var s = ""
        for i in inl {
            switch i {
            case .text(let t), .code(let t): s += t
            case .emphasis(let c), .strong(let c), .strikethrough(let c), .underline(let c): s += text(c)
            case .link(let url, _, let c):
                let label = text(c)
                s += label == url || url.isEmpty ? label : label + " <" + url + ">"
            case .image(_, _, let alt): s += text(alt)
            case .softBreak: s += " "
            case .lineBreak: s += "\n"
            case .math(_, let text, _): s += text
            case .raw: break
            }
        }
        return s
    }
}
