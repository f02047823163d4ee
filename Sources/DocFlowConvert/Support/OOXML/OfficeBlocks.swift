import DocFlowModel
import Foundation

/// What DOCX and PPTX make of their text alike: list paragraphs nested by level, the title taken
/// from the first heading, and the links that are kept.
enum OfficeBlocks {
    /// One list paragraph waiting for its neighbours.
    struct PendingItem {
        var level: Int
        var ordered: Bool
        var start: Int
        var content: [Inline]
    }

    /// Consecutive list paragraphs as nested lists: deeper items belong to the item before them.
    static func nest(_ items: ArraySlice<PendingItem>) -> [Block] {
        var out: [Block] = []
        guard let first = items.first else { return out }
        let base = first.level
        var current: [ListItem] = []
        var ordered = first.ordered, start = first.start
        var i = items.startIndex
        while i < items.endIndex {
            let item = items[i]
            var j = i + 1
            while j < items.endIndex, items[j].level > min(base, item.level) { j += 1 }
            var content: [Block] = [.paragraph(item.content)]
            if j > i + 1 { content += nest(items[(i + 1)..<j]) }
            if item.ordered != ordered, !current.isEmpty {
                out.append(.list(ordered: ordered, start: start, tight: true, current))
                current = []; ordered = item.ordered; start = item.start
            }
            current.append(ListItem(blocks: content))
            i = j
        }
        out.append(.list(ordered: ordered, start: start, tight: true, current))
        return out
    }

    /// Blocks as Word and PowerPoint meant them, not as their runs split them: runs merged into
    /// clean formatting (`Inline.normalized`), headings without bold wrapped around them (a
    /// heading is bold already), and paragraphs set wholly in a monospace font — one or several
    /// in a row — as one code block.
    static func clean(_ blocks: [Block]) -> [Block] {
        var out: [Block] = []
        var code: [String] = []
        func flushCode() {
            if !code.isEmpty { out.append(.codeBlock(language: nil, code.joined(separator: "\n") + "\n")); code = [] }
        }
        for b in blocks {
            if case .paragraph(let xs) = b, let text = monospaceText(xs) { code.append(text); continue }
            flushCode()
            switch b {
            case .paragraph(let xs): out.append(.paragraph(Inline.normalized(xs)))
            case .heading(let level, let xs): out.append(.heading(level: level, unwrapped(Inline.normalized(xs))))
            case .blockQuote(let inner): out.append(.blockQuote(clean(inner)))
            case .list(let ordered, let start, let tight, let items):
                out.append(.list(ordered: ordered, start: start, tight: tight, items.map { ListItem(blocks: clean($0.blocks), checked: $0.checked) }))
            case .table(let header, let aligns, let rows):
                out.append(.table(header: header.map(Inline.normalized), alignments: aligns, rows: rows.map { $0.map(Inline.normalized) }))
            default: out.append(b)
            }
        }
        flushCode()
        return out
    }

    /// A paragraph's text when every visible piece of it is monospace (inline code).
    private static func monospaceText(_ xs: [Inline]) -> String? {
        var text = "", sawCode = false
        for x in xs {
            switch x {
            case .code(let c): text += c; sawCode = true
            case .lineBreak, .softBreak: text += "\n"
            case .text(let t) where t.allSatisfy(\.isWhitespace): text += t
            default: return nil
            }
        }
        return sawCode && !text.allSatisfy(\.isWhitespace) ? text : nil
    }

    /// A heading's inlines without bold (and without italic around the whole heading).
    private static func unwrapped(_ xs: [Inline]) -> [Inline] {
        let flat = Inline.normalized(xs.flatMap { x -> [Inline] in
            if case .strong(let c) = x { return c }
            return [x]
        })
        if flat.count == 1, case .emphasis(let c) = flat[0] { return c }
        return flat
    }

    /// The first non-empty heading: the title when the core properties name none.
    static func firstHeading(_ blocks: [Block]) -> String? {
        for b in blocks {
            if case .heading(_, let xs) = b {
                let t = Inline.plainText(xs).trimmingCharacters(in: .whitespacesAndNewlines)
                if !t.isEmpty { return t }
            }
        }
        return nil
    }

    /// Links kept: web, mail and in-document anchors; anything else stays plain text.
    static func safeLink(_ url: String) -> String? {
        let lower = url.lowercased()
        return ["http://", "https://", "mailto:", "ftp://", "#"].contains { lower.hasPrefix($0) } ? url : nil
    }
}
