import DocFlowModel

/// SmartArt in DOCX and PPTX, read from the diagram's data part (`dgm:dataModel`) rather than
/// from how it is drawn: each node's text as a list item, nested as the model's parent-of
/// connections say, in their order. What cannot be read is said in a warning.
enum OfficeDiagram {
    /// Nesting deeper than this is flattened (a forged model could loop).
    static let maxDepth = 16

    /// The blocks of the diagram `node` (a graphic frame or drawing) refers to; nil when it
    /// refers to none.
    static func blocks(in node: XMLTreeNode, rels: [String: OfficePackage.Relationship], package: OfficePackage,
                       context: ConversionContext) -> [Block]? {
        guard let ids = node.descendant("relIds"), let id = ids.relationshipAttr("dm") else { return nil }
        guard let rel = rels[id], !rel.external, let tree = try? package.tree(rel.target),
              let model = tree.root, let points = model.child("ptLst") else {
            context.warn("A SmartArt diagram's text could not be read (its data part is missing or damaged).")
            return []
        }
        var text: [String: String] = [:]
        var order: [String] = []
        var root: String?
        for pt in points.children where pt.is("pt") {
            guard let mid = pt.attr("modelId") else { continue }
            let type = pt.attr("type") ?? "node"
            if type == "doc" { root = mid }
            guard type == "node" || type == "asst" else { continue }
            let paragraphs = pt.child("t")?.children.filter { $0.is("p") } ?? []
            let lines = paragraphs.map { p -> String in
                var runs: [XMLTreeNode] = []
                p.descendants("t", into: &runs)
                return runs.map(\.text).joined()
            }.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            text[mid] = lines.joined(separator: " ")
            order.append(mid)
        }
        // Parent-of connections (the default type), in source order.
        var children: [String: [(Int, String)]] = [:]
        var hasParent = Set<String>()
        for cxn in model.child("cxnLst")?.children.filter({ $0.is("cxn") }) ?? [] {
            guard (cxn.attr("type") ?? "parOf") == "parOf", let src = cxn.attr("srcId"), let dst = cxn.attr("destId") else { continue }
            children[src, default: []].append((Int(cxn.attr("srcOrd") ?? "") ?? 0, dst))
            hasParent.insert(dst)
        }
        var seen = Set<String>()
        func items(of parent: String, depth: Int) -> [ListItem] {
            let kids = (children[parent] ?? []).sorted { $0.0 < $1.0 }.map(\.1)
            return kids.compactMap { kid in
                guard text[kid] != nil, seen.insert(kid).inserted else { return nil }
                var blocks: [Block] = []
                if let t = text[kid], !t.isEmpty { blocks.append(.paragraph([.text(t)])) }
                let sub = depth < maxDepth ? items(of: kid, depth: depth + 1) : []
                if !sub.isEmpty { blocks.append(.list(ordered: false, start: 1, tight: true, sub)) }
                return blocks.isEmpty ? nil : ListItem(blocks: blocks)
            }
        }
        var top = root.map { items(of: $0, depth: 1) } ?? []
        // Nodes the connections do not reach (or a model without them): in the model's order.
        for mid in order where !seen.contains(mid) && (root == nil || !hasParent.contains(mid)) {
            seen.insert(mid)
            if let t = text[mid], !t.isEmpty { top.append(ListItem(blocks: [.paragraph([.text(t)])])) }
        }
        return top.isEmpty ? [] : [.list(ordered: false, start: 1, tight: true, top)]
    }
}
