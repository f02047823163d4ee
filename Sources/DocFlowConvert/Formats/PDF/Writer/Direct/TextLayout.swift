import DocFlowModel

/// The fonts one render uses, found by fontconfig and loaded on first use.
final class FontSet {
    private var fonts: [String: PDFFont] = [:]
    private(set) var ordered: [PDFFont] = []

    func font(_ family: String, bold: Bool, italic: Bool) throws -> PDFFont {
        let key = "\(family)|\(bold)|\(italic)"
        if let f = fonts[key] { return f }
        guard let path = PDFFont.locate(family: family, bold: bold, italic: italic) else { throw NeedsPango() }
        if let same = ordered.first(where: { $0.path == path }) {
            fonts[key] = same
            return same
        }
        guard let f = PDFFont(path: path, resource: "F\(ordered.count)") else { throw NeedsPango() }
        fonts[key] = f
        ordered.append(f)
        return f
    }
}

/// A run of glyphs in one font, size and style, placed on a line.
struct PlacedRun {
    var x: Double
    var width: Double
    let font: PDFFont
    let size: Double
    var shaped: PDFFont.Shaped
    var style: RunStyle
    /// Space glyphs after the word (included in `width`): a line is mostly word, space, word.
    var spaces = 0
}

struct RunStyle: Equatable {
    var underline = false
    var strike = false
    var shaded = false  // inline code
    var link = -1  // index into the paragraph's safe links (the annotation)
    var linkColor = false  // any link, safe or not, is shown as one
    var color: RGB { linkColor ? .link : .text }
}

/// One laid-out line: runs from its left edge, its height from the fonts on it.
struct TextLine {
    var runs: [PlacedRun] = []
    var width = 0.0
    var ascent: Double
    var descent: Double
    var height: Double { ascent + descent }
}

/// Lays rich text out in lines: words shaped by HarfBuzz (cached per font), greedy breaking at
/// spaces, words longer than the line broken between glyphs, newlines kept, tabs to the next
/// stop of eight spaces — what the pango renderer does for the text this writer takes.
struct TextLayout {
    struct Base {
        var family: String
        var monoFamily: String
        var size: Double
        var bold = false
        var italic = false
    }

    static func lines(_ rich: RichText, base: Base, fonts: FontSet, width: Double?, alignment: Alignment = .none) throws -> [TextLine] {
        let baseFont = try fonts.font(base.family, bold: base.bold, italic: base.italic)
        let emptyLine = TextLine(ascent: baseFont.ascent * base.size, descent: baseFont.descent * base.size)
        var text = rich.text  // read in place (withUTF8), not copied into an array per paragraph
        var lines: [TextLine] = []
        var line = emptyLine
        var x = 0.0
        var hasGlyphs = false
        let limit = width.map { max($0, 10) }

        func finish() {
            // Trailing spaces hang past the edge: they do not count in the width.
            line.width = line.runs.last.map { $0.x + $0.width - Double($0.spaces * Int($0.font.spaceAdvance)) * $0.size / $0.font.upem } ?? 0
            if let limit, alignment == .right || alignment == .center {
                let shift = (limit - line.width) / (alignment == .right ? 1 : 2)
                for i in line.runs.indices { line.runs[i].x += max(0, shift) }
            }
            lines.append(line)
            line = emptyLine
            x = 0
            hasGlyphs = false
        }
        func place(_ run: PlacedRun) {
            var r = run
            r.x = x
            x += r.width
            line.ascent = max(line.ascent, r.font.ascent * r.size)
            line.descent = max(line.descent, r.font.descent * r.size)
            line.runs.append(r)
        }

        // Words: maximal runs without space, tab or newline inside one style segment; a word
        // that continues into the next segment ("**bold**ness") stays unbreakable across it.
        var pending: [PlacedRun] = []  // the word being collected
        func flushWord() throws {
            guard !pending.isEmpty else { return }
            let total = pending.reduce(0) { $0 + $1.width }
            if let limit, x + total > limit, hasGlyphs { finish() }
            if let limit, x + total > limit {
                // Longer than a line: break between glyphs, each line taking what fits (one
                // slice per line, so a megabyte without a space costs no more than its glyphs).
                for run in pending {
                    let n = run.shaped.glyphs.count, scale = run.size / run.font.upem
                    var s = 0
                    while s < n {
                        var k = s, w = 0.0
                        while k < n, x + w + Double(run.shaped.advances[k]) * scale <= limit { w += Double(run.shaped.advances[k]) * scale; k += 1 }
                        if k == s {
                            if hasGlyphs { finish(); continue }
                            k = s + 1  // at least one glyph a line
                            w = Double(run.shaped.advances[s]) * scale
                        }
                        var part = run
                        if s > 0 || k < n {
                            part.shaped = run.shaped.slice(s..<k)
                            part.width = w
                        }
                        place(part)
                        hasGlyphs = true
                        s = k
                        if s < n { finish() }
                    }
                }
            } else {
                for run in pending { place(run) }
                hasGlyphs = true
            }
            pending.removeAll(keepingCapacity: true)
        }

        var memo = [PDFFont?](repeating: nil, count: 8)  // mono × bold × italic
        try text.withUTF8 { all in
            for segment in segments(rich, count: all.count) {
                let slot = (segment.mono ? 4 : 0) + (base.bold || segment.bold ? 2 : 0) + (base.italic || segment.italic ? 1 : 0)
                let font = try memo[slot] ?? fonts.font(segment.mono ? base.monoFamily : base.family, bold: slot & 2 != 0, italic: slot & 1 != 0)
                memo[slot] = font
                let size = base.size
                let scale = size / font.upem
                var i = segment.start
                while i < segment.end {
                    let b = all[i]
                    if b == 0x0A {
                        try flushWord()
                        finish()
                        i += 1
                    } else if b == 0x09 {
                        try flushWord()
                        let stop = Double(font.spaceAdvance) * scale * 8
                        x = (x / stop + 1).rounded(.down) * stop
                        i += 1
                    } else if b == 0x20 {
                        try flushWord()
                        var j = i
                        while j < segment.end && all[j] == 0x20 { j += 1 }
                        let n = j - i
                        let w = Double(font.spaceAdvance) * scale * Double(n)
                        // Spaces go on the line they end (they hang past the edge when it is full),
                        // after the word before them when it is in the same font and style.
                        if let k = line.runs.indices.last, line.runs[k].font === font, line.runs[k].size == size,
                           line.runs[k].style == segment.style, abs(line.runs[k].x + line.runs[k].width - x) < 0.001 {
                            line.runs[k].spaces += n
                            line.runs[k].width += w
                            x += w
                        } else {
                            place(PlacedRun(x: 0, width: w, font: font, size: size, shaped: .empty, style: segment.style, spaces: n))
                        }
                        i = j
                    } else {
                        var j = i
                        while j < segment.end && all[j] != 0x20 && all[j] != 0x0A && all[j] != 0x09 { j += 1 }
                        let shaped = try font.shape(UnsafeBufferPointer(rebasing: all[i..<j]))
                        pending.append(PlacedRun(x: 0, width: Double(shaped.width) * scale, font: font, size: size, shaped: shaped, style: segment.style))
                        i = j
                    }
                }
            }
            try flushWord()
        }
        finish()
        return lines
    }

    struct Segment {
        var start: Int, end: Int
        var bold = false, italic = false, mono = false
        var style = RunStyle()
    }

    /// The text cut where any style or link starts or ends (a sweep over the span boundaries).
    static func segments(_ rich: RichText, count: Int) -> [Segment] {
        if rich.spans.isEmpty && rich.links.isEmpty { return [Segment(start: 0, end: count)] }
        var events: [(pos: Int, kind: Int, delta: Int)] = []  // kind: style index, 6 = link (delta = ±(index+1))
        for s in rich.spans {
            let k: Int
            switch s.style { case .bold: k = 0; case .italic: k = 1; case .mono: k = 2; case .strike: k = 3; case .underline: k = 4; case .link: k = 5 }
            events.append((s.start, k, 1)); events.append((s.end, k, -1))
        }
        for (i, l) in rich.links.enumerated() { events.append((l.start, 6, i + 1)); events.append((l.end, 6, -(i + 1))) }
        events.sort { $0.pos < $1.pos }
        var counts = [Int](repeating: 0, count: 6)
        var link = -1
        var out: [Segment] = []
        var pos = 0, e = 0
        while pos < count || e < events.count {
            while e < events.count && events[e].pos <= pos {
                let ev = events[e]
                if ev.kind == 6 { link = ev.delta > 0 ? ev.delta - 1 : (link == -ev.delta - 1 ? -1 : link) } else { counts[ev.kind] += ev.delta }
                e += 1
            }
            let next = min(e < events.count ? events[e].pos : count, count)
            if next > pos {
                var s = Segment(start: pos, end: next, bold: counts[0] > 0, italic: counts[1] > 0, mono: counts[2] > 0)
                s.style = RunStyle(underline: counts[4] > 0 || counts[5] > 0, strike: counts[3] > 0, shaded: counts[2] > 0, link: link, linkColor: counts[5] > 0)
                out.append(s)
            }
            if next >= count { break }
            pos = next
        }
        return out
    }
}
