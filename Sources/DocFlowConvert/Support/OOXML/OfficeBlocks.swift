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
