import DocFlowModel

/// One page's written lines with their font sizes and block starts (or, when poppler's lines do
/// not line up with the text, paragraphs split at blank lines only). Paragraphs are poppler's text
/// blocks, also split where the type size changes between heading and body; short runs of lines
/// set clearly larger than the body text become headings.
struct PDFPage {
    var lines: [(text: String, size: Float, blockStart: Bool)]?
    var fallback: [Block]

    /// A run of lines that becomes one block.
    private struct Group {
        var lines: [String]
        var size: Float
        var large: Bool
    }

    /// The pages' blocks, page breaks between them. The body size is the one most text is set in; a
    /// line is large at 1.1 × that and 1 pt more (sizes to the half point); a group of large lines of at most 3 lines and 25
    /// words (with a letter) is a heading — the largest such size level 1, the next 2, the rest 3.
    static func blocks(_ pages: [PDFPage]) -> [Block] {
        var weight: [Float: Int] = [:]
        // Sizes to the half point: 11.9552 and 12 are one size, 13.44 stays apart from 12.
        func key(_ s: Float) -> Float { (s * 2).rounded() / 2 }
        for line in pages.lazy.compactMap(\.lines).joined() { weight[key(line.size), default: 0] += line.text.utf8.count }
        let body = weight.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? 0
        func large(_ size: Float) -> Bool { body > 0 && key(size) >= body * 1.1 && key(size) >= body + 1 }

        let grouped: [[Group]?] = pages.map { page in
            guard let lines = page.lines else { return nil }
            var groups: [Group] = []
            for line in lines {
                let big = large(line.size)
                if let last = groups.last, !line.blockStart, last.large == big, !big || key(last.size) == key(line.size) {
                    groups[groups.count - 1].lines.append(line.text)
                    groups[groups.count - 1].size = max(last.size, line.size)
                } else {
                    groups.append(Group(lines: [line.text], size: line.size, large: big))
                }
            }
            return groups
        }
        func heading(_ g: Group) -> Bool {
            guard g.large, g.lines.count <= 3 else { return false }
            let words = g.lines.joined(separator: " ").split(whereSeparator: \.isWhitespace)
            return words.count <= 25 && words.contains { $0.contains { $0.isLetter } }
        }
        let ranked = Set(grouped.compactMap { $0 }.joined().filter(heading).map { key($0.size) }).sorted(by: >)

        var out: [Block] = []
        for (n, page) in pages.enumerated() {
            if n > 0 { out.append(.pageBreak) }
            guard let groups = grouped[n] else { out += page.fallback; continue }
            for g in groups {
                if heading(g) {
                    out.append(.heading(level: min((ranked.firstIndex(of: key(g.size)) ?? 2) + 1, 3), [.text(g.lines.joined(separator: " "))]))
                } else {
                    var para: [Inline] = []
                    for l in g.lines {
                        if !para.isEmpty { para.append(.softBreak) }
                        para.append(.text(l))
                    }
                    out.append(.paragraph(para))
                }
            }
        }
        return out
    }
}
