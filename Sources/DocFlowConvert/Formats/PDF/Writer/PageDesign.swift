import DocFlowModel

/// The page design both PDF renderers draw (the direct writer and cairo + pango): sizes and
/// spacing in points, list markers, table column widths — so a document looks the same whichever
/// renderer takes it.
enum PageDesign {
    /// Pictures past this many pixels are not decoded (a small PNG can claim a huge canvas).
    static let maxImagePixels = 40_000_000
    static let cellPadding = 3.0
    static let quoteIndent = 14.0
    static let listIndent = 20.0

    /// Space after a block: less inside tight lists.
    static func spaceAfter(tight: Bool) -> Double { tight ? 2 : 6 }

    /// Headings are bold sans (or serif), never monospace.
    static func headingFamily(_ options: PDFOptions) -> String {
        options.bodyFamily == options.monoFamily ? "DejaVu Sans" : options.bodyFamily
    }

    /// Heading type sizes by level (1–6).
    static func headingSize(_ level: Int) -> Double { [20.0, 16, 13.5, 12, 11, 10.5][min(max(level, 1), 6) - 1] }

    /// Each item of a list with its marker (the number, a bullet by nesting depth, or a check
    /// box) and the blocks drawn beside it; an empty item still gets a (blank) line.
    static func listItems(_ items: [ListItem], ordered: Bool, start: Int, depth: Int, tight: Bool,
                          _ body: (_ marker: String, _ blocks: [Block], _ tight: Bool) throws -> Void) rethrows {
        let bullets = ["•", "◦", "▪"]
        for (i, item) in items.enumerated() {
            var label = ordered ? "\(start + i)." : bullets[depth % bullets.count]
            if let checked = item.checked { label = checked ? "☑" : "☐" }
            if item.blocks.isEmpty { try body(label, [.paragraph([])], true) } else { try body(label, item.blocks, tight) }
        }
    }

    /// A paragraph's text: pictures carried as data URLs are collected to be drawn below it,
    /// linked ones counted in `images` (shown as alt text). `drawsText` is false for a paragraph
    /// that is only pictures.
    static func paragraphText(_ inlines: [Inline], images: inout Int) -> (text: RichText, drawsText: Bool) {
        var rich = RichText()
        rich.embedImages = true
        rich.add(inlines)
        images += rich.images
        return (rich, rich.pictures.isEmpty || rich.text.contains(where: { !$0.isWhitespace }))
    }

    /// Space before a heading (none at the top of a page), after it, and how much must fit
    /// below it on the page: the heading is kept with the first lines that follow.
    static func headingSpace(_ size: Double) -> (above: Double, below: Double) { (size * 0.6, size * 0.35) }
    static func keptWithHeading(bodySize: Double) -> Double { 3 * bodySize * 1.3 }

    /// A table cell's text; linked images in it are counted in `images` (shown as alt text).
    static func cellText(_ cell: [Inline], images: inout Int) -> RichText {
        var r = RichText()
        r.add(cell)
        images += r.images
        return r
    }

    /// Natural column widths from the header and a sample of rows, `measure` giving a cell's
    /// unwrapped width (header cells in bold), then fitted to `total`.
    static func columnWidths(header: [[Inline]], rows: [[[Inline]]], count n: Int, total: Double, images: inout Int,
                             measure: (RichText, _ header: Bool) throws -> Double) rethrows -> [Double] {
        var natural = [Double](repeating: 2 * cellPadding + 12, count: n)
        for (rowIndex, row) in ([header] + rows.prefix(300)).enumerated() {
            for (i, cell) in row.enumerated() where i < n {
                natural[i] = max(natural[i], try measure(cellText(cell, images: &images), rowIndex == 0) + 2 * cellPadding + 1)
            }
        }
        return fitColumns(natural, total)
    }

    /// Column widths that fit `total`: columns narrower than an even share keep their natural
    /// width; the others share the rest in proportion to theirs.
    static func fitColumns(_ natural: [Double], _ total: Double) -> [Double] {
        if natural.reduce(0, +) <= total { return natural }
        var fixed = [Bool](repeating: false, count: natural.count)
        var widths = natural
        while true {
            let free = fixed.indices.filter { !fixed[$0] }
            let left = total - fixed.indices.filter { fixed[$0] }.map { natural[$0] }.reduce(0, +)
            let share = left / Double(max(free.count, 1))
            let newlyFixed = free.filter { natural[$0] <= share }
            if newlyFixed.isEmpty || newlyFixed.count == free.count {
                let sum = free.map { natural[$0] }.reduce(0, +)
                for i in free { widths[i] = max(24, left * natural[i] / max(sum, 1)) }
                return widths
            }
            for i in newlyFixed { fixed[i] = true }
        }
    }
}
