import DocFlowModel

/// DrawingML charts in DOCX and PPTX, as what they say rather than how they look: the chart's
/// title, then a table of the data cached in the chart part (categories down, one column per
/// series). Scatter charts use their x values as the categories.
enum OfficeChart {
    /// The blocks of the chart a drawing or graphic frame refers to, if any.
    static func blocks(in node: XMLTreeNode, rels: [String: OfficePackage.Relationship], package: OfficePackage) -> [Block] {
        guard let ref = node.descendant("chart"), let id = ref.relationshipAttr("id"), let rel = rels[id], !rel.external,
              let tree = try? package.tree(rel.target), let chart = tree.root?.child("chart") else { return [] }
        var out: [Block] = []
        if let title = chart.child("title") {
            var runs: [XMLTreeNode] = []
            title.descendants("t", into: &runs)
            let text = runs.map(\.text).joined()
            if !text.isEmpty { out.append(.paragraph([.strong([.text(text)])])) }
        }
        var series: [XMLTreeNode] = []
        chart.child("plotArea")?.descendants("ser", into: &series)
        guard !series.isEmpty else { return out }
        var names: [String] = []
        var columns: [[Int: String]] = []
        var categories: [Int: String] = [:]
        for s in series {
            names.append(s.child("tx").map(points).flatMap { $0[0] } ?? "Series \(names.count + 1)")
            if categories.isEmpty, let cat = s.child("cat") ?? s.child("xVal") { categories = points(cat) }
            columns.append((s.child("val") ?? s.child("yVal")).map(points) ?? [:])
        }
        let count = ([categories.keys.max() ?? -1] + columns.map { $0.keys.max() ?? -1 }).max()! + 1
        guard count > 0, count <= 100_000 else { return out }
        let header = [[Inline]()] + names.map { [Inline.text($0)] }
        let rows = (0..<count).map { i in [[Inline.text(categories[i] ?? "")]] + columns.map { [Inline.text($0[i] ?? "")] } }
        out.append(.table(header: header, alignments: [.none] + names.map { _ in .right }, rows: rows))
        return out
    }

    /// A cached number as Excel shows it: 4.4000000000000004 is 4.4 (the shortest text that reads back the same).
    private static func tidy(_ v: String) -> String {
        guard v.contains("."), !v.contains(where: { $0.isLetter && $0 != "E" && $0 != "e" }), let d = Double(v), d.isFinite else { return v }
        let s = String(d)
        return s.hasSuffix(".0") ? String(s.dropLast(2)) : s
    }

    /// The cached points below a `tx`, `cat` or `val` element, by index.
    private static func points(_ node: XMLTreeNode) -> [Int: String] {
        var pts: [XMLTreeNode] = []
        node.descendants("pt", into: &pts)
        var out: [Int: String] = [:]
        for p in pts {
            if let i = p.attr("idx").flatMap(Int.init), i >= 0, let v = p.child("v") { out[i] = tidy(v.text) }
        }
        if out.isEmpty, let v = node.descendant("v") { out[0] = v.text }
        return out
    }
}
