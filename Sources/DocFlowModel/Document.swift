/// The document hub: what Markdown, HTML, TXT, PDF, DOCX and PPTX readers produce and writers consume.
/// Shaped after pandoc's `Block` / `Inline`, with one raw escape hatch each.
public struct Document: Equatable, Sendable {
    /// Title, author and other properties; also what extraction reports.
    public var metadata: Metadata
    /// The content, in reading order.
    public var blocks: [Block]

    public init(metadata: Metadata = Metadata(), blocks: [Block] = []) {
        self.metadata = metadata
        self.blocks = blocks
    }
}

/// Column alignment of a table in a document.
public enum Alignment: String, Equatable, Sendable {
    /// No alignment given.
    case none
    /// Left aligned.
    case left
    /// Centered.
    case center
    /// Right aligned.
    case right
}

/// One item of a list; `checked` is set for task-list items.
public struct ListItem: Equatable, Sendable {
    /// The blocks inside the item.
    public var blocks: [Block]
    /// `true` / `false` for a task-list item, `nil` otherwise.
    public var checked: Bool?

    public init(blocks: [Block], checked: Bool? = nil) {
        self.blocks = blocks
        self.checked = checked
    }
}

/// Block-level content.
public indirect enum Block: Equatable, Sendable {
    /// A heading of level 1...6.
    case heading(level: Int, [Inline])
    /// A paragraph of inlines.
    case paragraph([Inline])
    /// A quotation containing blocks.
    case blockQuote([Block])
    /// A bullet list (`ordered == false`) or a numbered list starting at `start`.
    case list(ordered: Bool, start: Int, tight: Bool, [ListItem])
    /// Preformatted code with an optional language tag.
    case codeBlock(language: String?, String)
    /// A horizontal rule.
    case thematicBreak
    /// A table: header cells, alignments, rows of cells (each cell a list of inlines).
    case table(header: [[Inline]], alignments: [Alignment], rows: [[[Inline]]])
    /// A page break (PDF, DOCX) or slide break (PPTX).
    case pageBreak
    /// Content in another format carried through untouched (`format` such as "html").
    case raw(format: String, String)
}

/// Inline content.
public indirect enum Inline: Equatable, Sendable {
    /// Plain text.
    case text(String)
    /// Emphasis (usually italic).
    case emphasis([Inline])
    /// Strong emphasis (usually bold).
    case strong([Inline])
    /// Struck-out text.
    case strikethrough([Inline])
    /// Underlined text (Word); Markdown has no syntax for it and writes `<u>`.
    case underline([Inline])
    /// Inline code.
    case code(String)
    /// A hyperlink.
    case link(url: String, title: String?, [Inline])
    /// An image with its alternative text.
    case image(url: String, title: String?, alt: [Inline])
    /// A soft line break (a space when reflowed).
    case softBreak
    /// A hard line break.
    case lineBreak
    /// Inline content in another format carried through untouched.
    case raw(format: String, String)
    /// A formula: its TeX source (Markdown writes `$tex$`, or `$$tex$$` when `display`) and its
    /// readable linear text (what TXT and PDF show).
    case math(tex: String, text: String, display: Bool)
}

extension Inline {
    /// The plain text of inlines, as a reader would see it without formatting.
    public static func plainText(_ inlines: [Inline]) -> String {
        var out = ""
        for inline in inlines {
            switch inline {
            case .text(let s), .code(let s): out += s
            case .emphasis(let c), .strong(let c), .strikethrough(let c), .underline(let c), .link(_, _, let c): out += plainText(c)
            case .image(_, _, let alt): out += plainText(alt)
            case .softBreak: out += " "
            case .lineBreak: out += "\n"
            case .math(_, let text, _): out += text
            case .raw: break
            }
        }
        return out
    }
}

extension Document {
    /// Words in the document's text (runs of non-space characters), code and tables included.
    public var wordCount: Int {
        var count = 0
        func words(_ s: String) {
            var inWord = false
            for b in s.utf8 {
                let space = b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D || b == 0x0C
                if !space && !inWord { count += 1 }
                inWord = !space
            }
        }
        func inlines(_ xs: [Inline]) {
            // Adjacent text pieces may split one word ("**bold**er"); counting per block's joined
            // text keeps the count equal to what a reader of the text sees.
            words(Inline.plainText(xs))
        }
        func blocks(_ bs: [Block]) {
            for b in bs {
                switch b {
                case .heading(_, let xs), .paragraph(let xs): inlines(xs)
                case .blockQuote(let inner): blocks(inner)
                case .list(_, _, _, let items): for item in items { blocks(item.blocks) }
                case .codeBlock(_, let code): words(code)
                case .table(let header, _, let rows):
                    for cell in header { inlines(cell) }
                    for row in rows { for cell in row { inlines(cell) } }
                case .thematicBreak, .pageBreak, .raw: break
                }
            }
        }
        blocks(self.blocks)
        return count
    }

    /// The headings in document order (top-level blocks, quotes and lists included).
    public var outline: [(level: Int, text: String)] {
        var out: [(level: Int, text: String)] = []
        func blocks(_ bs: [Block]) {
            for b in bs {
                switch b {
                case .heading(let level, let xs):
                    out.append((level, Inline.plainText(xs).split(whereSeparator: \.isWhitespace).joined(separator: " ")))
                case .blockQuote(let inner): blocks(inner)
                case .list(_, _, _, let items): for item in items { blocks(item.blocks) }
                default: break
                }
            }
        }
        blocks(self.blocks)
        return out
    }
}
