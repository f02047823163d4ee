import DocFlowModel
import Foundation

/// Word documents (DOCX, transitional or strict OOXML) into the document hub: paragraphs and runs
/// (bold, italic, underline, strike, monospace fonts as code), headings from paragraph styles and
/// outline levels, lists from numbering.xml (bullets vs numbers, nesting), tables (merged cells
/// flattened with a warning), hyperlinks through relationships, footnotes and endnotes (numbered
/// markers, notes listed at the end), line and page breaks, text boxes, images (carried as data
/// URLs for HTML and PDF output) and the core properties. Parts are parsed with libxml2 with no
/// entities, no DTD and no network, from bounded zip streams.
public struct DOCXReader: Reader {
    public let format = Format.docx
    public init() {}

    public func read(_ bytes: [UInt8], context: ConversionContext) throws -> Payload {
        let package = try OfficePackage(bytes, what: "Word")
        let main = try package.mainPart(default: "word/document.xml")
        let rels = try package.relationships(of: main)
        func related(_ suffix: String, _ fallback: String) -> String {
            rels.values.first { $0.type.hasSuffix(suffix) && !$0.external }?.target ?? fallback
        }
        guard let document = try package.tree(main), let root = document.root else {
            throw ConversionError(.malformedInput, "The Word file has no document part (\(main)); it is not a DOCX document.")
        }
        context.progress(10, "reading Word styles")
        let styles = try DOCXStyles(package.tree(related("/styles", "word/styles.xml"))?.root)
        let numbering = try DOCXNumbering(package.tree(related("/numbering", "word/numbering.xml"))?.root)
        let body = DOCXBody(package: package, rels: rels, styles: styles, numbering: numbering, context: context)
        for (kind, suffix) in [("footnote", "/footnotes"), ("endnote", "/endnotes")] {
            let path = related(suffix, "word/\(kind)s.xml")
            if let notes = try package.tree(path)?.root {
                body.readNotes(notes, kind: kind, rels: try package.relationships(of: path))
            }
        }
        context.progress(30, "reading the Word body")
        guard let content = root.child("body") else {
            throw ConversionError(.malformedInput, "The Word document part has no body.")
        }
        var blocks = body.blocks(content)
        blocks += body.noteBlocks()
        blocks = OfficeBlocks.clean(blocks)

        var meta = try package.coreProperties()
        if meta.title == nil { meta.title = OfficeBlocks.firstHeading(blocks) }
        if let pages = try package.appProperty("Pages") { meta.properties["page_count"] = .number(pages) }
        meta.properties["image_count"] = .number(body.imageCount)
        if body.mergedCells > 0 {
            context.warn("\(body.mergedCells) merged table cell(s): each value is kept in the first cell of its range, the others are empty.")
        }
        return .document(Document(metadata: meta, blocks: blocks))
    }
}

/// Formatting a style or a run sets (nil: inherited).
struct RunFormat: Equatable {
    var bold: Bool?
    var italic: Bool?
    var underline: Bool?
    var strike: Bool?
    var code: Bool?
    var superscript: Bool?

    /// `other` over `self`.
    func merged(_ other: RunFormat) -> RunFormat {
        RunFormat(bold: other.bold ?? bold, italic: other.italic ?? italic, underline: other.underline ?? underline,
                  strike: other.strike ?? strike, code: other.code ?? code, superscript: other.superscript ?? superscript)
    }

    /// Direct formatting of a `w:rPr` element.
    init(_ rPr: XMLTreeNode?) {
        guard let rPr else { return }
        func on(_ n: XMLTreeNode) -> Bool { !["0", "false", "off", "none"].contains(n.attr("val") ?? "1") }
        for c in rPr.children {
            switch c.name {
            case "b": bold = on(c)
            case "i": italic = on(c)
            case "u": underline = on(c)
            case "strike", "dstrike": strike = on(c)
            case "rFonts":
                let font = (c.attr("ascii") ?? c.attr("hAnsi") ?? "").lowercased()
                if !font.isEmpty { code = ["courier", "consolas", "mono", "menlo", "lucida console", "source code"].contains { font.contains($0) } }
            case "vertAlign": superscript = c.attr("val") == "superscript"
            default: break
            }
        }
    }

    init(bold: Bool? = nil, italic: Bool? = nil, underline: Bool? = nil, strike: Bool? = nil, code: Bool? = nil, superscript: Bool? = nil) {
        self.bold = bold; self.italic = italic; self.underline = underline
        self.strike = strike; self.code = code; self.superscript = superscript
    }
}

/// styles.xml: heading levels, run formatting and numbering of paragraph and character styles,
/// with `basedOn` inheritance.
struct DOCXStyles {
    struct Style {
        var name = ""
        var basedOn: String?
        var outline: Int?
        var format = RunFormat()
        var numId: String?
        var ilvl: Int?
    }

    private var styles: [String: Style] = [:]
    private(set) var defaultParagraph: String?
    /// Resolved once per style: run formatting along the `basedOn` chain.
    private var formats: [String: RunFormat] = [:]
    private var headings: [String: Int] = [:]
    private var numberings: [String: (numId: String, ilvl: Int)] = [:]

    init(_ root: XMLTreeNode?) {
        guard let root else { return }
        for s in root.children where s.is("style") {
            guard let id = s.attr("styleId") else { continue }
            var style = Style()
            style.name = (s.child("name")?.attr("val") ?? id).lowercased()
            style.basedOn = s.child("basedOn")?.attr("val")
            if let pPr = s.child("pPr") {
                style.outline = pPr.child("outlineLvl")?.attr("val").flatMap(Int.init)
                if let num = pPr.child("numPr") {
                    style.numId = num.child("numId")?.attr("val")
                    style.ilvl = num.child("ilvl")?.attr("val").flatMap(Int.init)
                }
            }
            style.format = RunFormat(s.child("rPr"))
            styles[id] = style
            if s.attr("type") == "paragraph", s.attr("default") == "1" || s.attr("default") == "true" { defaultParagraph = id }
        }
        for id in styles.keys {
            let c = chain(id)
            formats[id] = c.reversed().reduce(RunFormat()) { $0.merged($1.format) }
            headings[id] = Self.headingLevel(c)
            numberings[id] = c.lazy.compactMap { s in s.numId.map { ($0, s.ilvl ?? 0) } }.first
        }
    }

    /// The chain from the style itself to its furthest ancestor (cycles cut).
    private func chain(_ id: String?) -> [Style] {
        var out: [Style] = []
        var seen = Set<String>()
        var cur = id
        while let c = cur, !seen.contains(c), let s = styles[c], out.count < 32 {
            seen.insert(c); out.append(s); cur = s.basedOn
        }
        return out
    }

    /// The heading level (1…6) a paragraph style gives, from its name or outline level.
    func headingLevel(_ id: String?) -> Int? { id.flatMap { headings[$0] } }

    private static func headingLevel(_ chain: [Style]) -> Int? {
        for s in chain {
            if s.name == "title" { return 1 }
            if s.name.hasPrefix("heading "), let n = Int(s.name.dropFirst(8)) { return min(max(n, 1), 6) }
            if let o = s.outline, o < 9 { return min(o + 1, 6) }
        }
        return nil
    }

    func format(_ id: String?) -> RunFormat {
        id.flatMap { formats[$0] } ?? RunFormat()
    }

    func numbering(_ id: String?) -> (numId: String, ilvl: Int)? { id.flatMap { numberings[$0] } }
}

/// numbering.xml: whether a list level is bulleted or numbered, and where it starts.
struct DOCXNumbering {
    struct Level { var ordered: Bool; var start: Int; var none: Bool }
    private var abstract: [String: [Int: Level]] = [:]
    private var nums: [String: String] = [:]

    init(_ root: XMLTreeNode?) {
        guard let root else { return }
        for c in root.children {
            if c.is("abstractNum"), let id = c.attr("abstractNumId") {
                var levels: [Int: Level] = [:]
                for l in c.children where l.is("lvl") {
                    let fmt = l.child("numFmt")?.attr("val") ?? "decimal"
                    levels[Int(l.attr("ilvl") ?? "0") ?? 0] = Level(ordered: fmt != "bullet", start: l.child("start")?.attr("val").flatMap(Int.init) ?? 1, none: fmt == "none")
                }
                abstract[id] = levels
            } else if c.is("num"), let id = c.attr("numId"), let a = c.child("abstractNumId")?.attr("val") {
                nums[id] = a
            }
        }
    }

    func level(numId: String, ilvl: Int) -> Level? {
        guard numId != "0", let a = nums[numId], let levels = abstract[a] else { return nil }
        return levels[ilvl] ?? Level(ordered: false, start: 1, none: false)
    }
}
