extension Inline {
    /// Inlines as clean runs: adjacent text joined; adjacent runs of the same formatting (bold
    /// next to bold, also across a space between them) merged into one; formatting nested in the
    /// same formatting unwrapped; empty or blank formatting dropped; spaces at the edges of a
    /// formatted run moved outside it. Word and PowerPoint split text into runs wherever an
    /// attribute changed, so `**The **` `**<u>Sunset</u>**` `** Tree**` becomes one bold run.
    public static func normalized(_ xs: [Inline]) -> [Inline] {
        var out: [Inline] = []
        for x in merged(xs) { out.append(contentsOf: cleaned(x, inside: nil)) }
        return merged(out)
    }

    /// The formatting kind of a node and its children, or nil for leaves (text, code, images…).
    private var formatting: (kind: Int, children: [Inline])? {
        switch self {
        case .emphasis(let c): return (0, c)
        case .strong(let c): return (1, c)
        case .strikethrough(let c): return (2, c)
        case .underline(let c): return (3, c)
        default: return nil
        }
    }

    private func with(_ children: [Inline]) -> Inline {
        switch self {
        case .emphasis: return .emphasis(children)
        case .strong: return .strong(children)
        case .strikethrough: return .strikethrough(children)
        case .underline: return .underline(children)
        case .link(let url, let title, _): return .link(url: url, title: title, children)
        default: return self
        }
    }

    private static func isBlank(_ x: Inline) -> Bool {
        switch x {
        case .text(let t): return t.allSatisfy(\.isWhitespace)
        case .softBreak, .lineBreak: return true
        default: return false
        }
    }

    /// Pass 1: joins neighbours that are the same run.
    private static func merged(_ xs: [Inline]) -> [Inline] {
        var out: [Inline] = []
        for x in xs {
            if case .text(let t) = x {
                if t.isEmpty { continue }
                if case .text(let prev)? = out.last { out[out.count - 1] = .text(prev + t); continue }
                out.append(x)
                continue
            }
            if let f = x.formatting {
                if let last = out.last?.formatting, last.kind == f.kind {
                    out[out.count - 1] = x.with(last.children + f.children)
                    continue
                }
                // Bold, a space, bold: one bold run (the space's formatting is invisible).
                if out.count >= 2, isBlank(out[out.count - 1]), let before = out[out.count - 2].formatting, before.kind == f.kind {
                    let space = out.removeLast()
                    out[out.count - 1] = x.with(before.children + [space] + f.children)
                    continue
                }
            }
            if case .link(let url, let title, let c) = x, case .link(let u2, let t2, let c2)? = out.last, url == u2, title == t2 {
                out[out.count - 1] = .link(url: url, title: title, c2 + c)
                continue
            }
            out.append(x)
        }
        return out
    }

    /// Pass 2: one node with its children cleaned, its edge spaces outside; `inside` is the
    /// formatting kind it sits in (the same kind inside it is unwrapped).
    private static func cleaned(_ x: Inline, inside: Int?) -> [Inline] {
        if case .link(let url, let title, let c) = x {
            return [.link(url: url, title: title, merged(c.flatMap { cleaned($0, inside: inside) }))]
        }
        guard let f = x.formatting else { return [x] }
        var kids = merged(f.children.flatMap { cleaned($0, inside: f.kind) })
        if f.kind == inside || kids.isEmpty || kids.allSatisfy(isBlank) { return kids }
        var lead: [Inline] = [], trail: [Inline] = []
        // Line breaks at the edges go outside too.
        while let first = kids.first, first == .softBreak || first == .lineBreak { lead.append(kids.removeFirst()) }
        while let last = kids.last, last == .softBreak || last == .lineBreak { trail.insert(kids.removeLast(), at: 0) }
        if case .text(let t)? = kids.first, t.first?.isWhitespace == true {
            let rest = t.drop { $0.isWhitespace }
            lead.append(.text(String(t.prefix(t.count - rest.count))))
            if rest.isEmpty { kids.removeFirst() } else { kids[0] = .text(String(rest)) }
        }
        if case .text(let t)? = kids.last, t.last?.isWhitespace == true {
            var rest = Substring(t)
            while rest.last?.isWhitespace == true { rest = rest.dropLast() }
            trail.insert(.text(String(t.suffix(t.count - rest.count))), at: 0)
            if rest.isEmpty { kids.removeLast() } else { kids[kids.count - 1] = .text(String(rest)) }
        }
        if kids.isEmpty { return lead + trail }
        return lead + [x.with(kids)] + trail
    }
}
