import CCmarkGFM
import DocFlowModel
import Foundation

/// GitHub Flavored Markdown read with cmark-gfm (tables, strikethrough, autolinks, task lists) and
/// its syntax tree mapped onto the document model.
public struct MarkdownReader: Reader {
    public let format = Format.markdown
    public init() {}

    public func read(_ bytes: [UInt8], context: ConversionContext) throws -> Payload {
        let text = try TextDecoding.utf8(bytes, context: context, what: "Markdown", strayNULs: true)
        // cmark-gfm turns the extensions' inline characters (`~` for strikethrough) on and off in a
        // process-wide table during every parse, so two parses at once lose each other's
        // strikethrough (seen with tests in parallel); its extension registry is global too. One
        // parse at a time; the runner converts on one thread anyway.
        MarkdownReader.lock.lock()
        defer { MarkdownReader.lock.unlock() }
        cmark_gfm_core_extensions_ensure_registered()
        let options = CMARK_OPT_VALIDATE_UTF8 | CMARK_OPT_FOOTNOTES
        guard let parser = cmark_parser_new(options) else {
            throw ConversionError(.internal, "The Markdown parser could not be created.")
        }
        defer { cmark_parser_free(parser) }
        for name in ["table", "strikethrough", "autolink", "tasklist"] {
            if let ext = cmark_find_syntax_extension(name) { cmark_parser_attach_syntax_extension(parser, ext) }
        }
        text.withUnsafeBufferPointer { buf in
            buf.baseAddress.map { base in
                base.withMemoryRebound(to: CChar.self, capacity: buf.count) { cmark_parser_feed(parser, $0, buf.count) }
            }
        }
        guard let root = cmark_parser_finish(parser) else {
            throw ConversionError(.malformedInput, "The Markdown file could not be parsed.")
        }
        defer { cmark_node_free(root) }
        var walker = TreeWalker(context: context)
        let blocks = walker.blocks(of: root)
        var meta = Metadata()
        if let title = blocks.lazy.compactMap({ b -> String? in
            if case .heading(1, let inl) = b { return Inline.plainText(inl) } else { return nil }
        }).first { meta.title = title }
        return .document(Document(metadata: meta, blocks: blocks))
    }

    private static let lock = NSLock()
}

/// Maps cmark nodes to blocks and inlines.
private struct TreeWalker {
    let context: ConversionContext
    /// Footnote definitions' blocks. cmark-gfm numbers the references in order of first use (a
    /// reference's literal is its number), moves the definitions to the end in that order and
    /// drops those never referenced.
    var footnotes: [[Block]] = []
    /// Deeper structure than this is flattened to its text, so hostile nesting cannot exhaust the
    /// stack of this walker or of the writers that recurse over the model.
    static let maxDepth = 64
    var depth = 0

    init(context: ConversionContext) { self.context = context }

    private func children(_ node: OpaquePointer) -> [OpaquePointer] {
        var out: [OpaquePointer] = []
        var child = cmark_node_first_child(node)
        while let c = child { out.append(c); child = cmark_node_next(c) }
        return out
    }

    private func str(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }
    /// The node's type name. cmark-gfm 0.29's `cmark_node_get_type_string` calls footnotes
    /// "<unknown>": those are named from their type.
    private func typeName(_ node: OpaquePointer) -> String {
        switch cmark_node_get_type(node) {
        case CMARK_NODE_FOOTNOTE_REFERENCE: return "footnote_reference"
        case CMARK_NODE_FOOTNOTE_DEFINITION: return "footnote_definition"
        default: return str(cmark_node_get_type_string(node))
        }
    }

    /// The text of a subtree, gathered with cmark's iterator (no recursion).
    func flatText(_ node: OpaquePointer) -> String {
        guard let iter = cmark_iter_new(node) else { return "" }
        defer { cmark_iter_free(iter) }
        var out = ""
        while true {
            let ev = cmark_iter_next(iter)
            if ev == CMARK_EVENT_DONE { break }
            guard ev == CMARK_EVENT_ENTER, let n = cmark_iter_get_node(iter) else { continue }
            switch typeName(n) {
            case "text", "code", "code_block": out += str(cmark_node_get_literal(n))
            case "softbreak", "linebreak": out += " "
            case "paragraph", "heading": if !out.isEmpty && !out.hasSuffix(" ") { out += " " }
            default: break
            }
        }
        return out
    }

    mutating func blocks(of node: OpaquePointer) -> [Block] {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth {
            context.warn("Content nested more than \(Self.maxDepth) levels deep was flattened to plain text.")
            return [.paragraph([.text(flatText(node))])]
        }
        var out: [Block] = []
        for c in children(node) {
            if typeName(c) == "html_block" { out += htmlBlocks(str(cmark_node_get_literal(c))) } else if let b = block(c) { out.append(b) }
        }
        // Footnotes become endnotes: `[n]` where referenced, the notes numbered after a rule (as
        // Word's footnotes are read).
        if typeName(node) == "document", !footnotes.isEmpty {
            out.append(.thematicBreak)
            out.append(.list(ordered: true, start: 1, tight: true, footnotes.map { ListItem(blocks: $0) }))
        }
        return out
    }

    mutating func block(_ node: OpaquePointer) -> Block? {
        switch typeName(node) {
        case "paragraph": return .paragraph(inlines(of: node))
        case "heading": return .heading(level: Int(cmark_node_get_heading_level(node)), inlines(of: node))
        case "block_quote": return .blockQuote(blocks(of: node))
        case "list":
            let ordered = cmark_node_get_list_type(node) == CMARK_ORDERED_LIST
            let items = children(node).map { item -> ListItem in
                let checked: Bool? = typeName(item) == "tasklist" ? cmark_gfm_extensions_get_tasklist_item_checked(item) : nil
                return ListItem(blocks: blocks(of: item), checked: checked)
            }
            return .list(ordered: ordered, start: Int(cmark_node_get_list_start(node)),
                         tight: cmark_node_get_list_tight(node) != 0, items)
        case "code_block":
            let info = str(cmark_node_get_fence_info(node)).split(separator: " ").first.map(String.init)
            return .codeBlock(language: info?.isEmpty == false ? info : nil, str(cmark_node_get_literal(node)))
        case "html_block": return htmlBlocks(str(cmark_node_get_literal(node))).first
        case "thematic_break": return .thematicBreak
        case "table": return table(node)
        case "footnote_definition":
            footnotes.append(blocks(of: node))
            return nil
        default:
            context.warn("A Markdown element of type \(typeName(node)) was dropped.")
            return nil
        }
    }

    /// A raw HTML block (a `<table>`, a `<div>`…) read by the HTML reader's tree walker into the
    /// model, so every output shows it (scripts, styles and comments are dropped, as from HTML
    /// files); it stays raw HTML only where that reading finds nothing.
    mutating func htmlBlocks(_ html: String) -> [Block] {
        let parsed = (try? HTMLTree.read(Array(html.utf8), encoding: "UTF-8", context: context))?.blocks ?? []
        if parsed.isEmpty && !html.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("<!--") { return [.raw(format: "html", html)] }
        return parsed
    }

    mutating func table(_ node: OpaquePointer) -> Block {
        let columns = Int(cmark_gfm_extensions_get_table_columns(node))
        var aligns: [Alignment] = []
        if let raw = cmark_gfm_extensions_get_table_alignments(node) {
            for i in 0..<columns {
                switch UnicodeScalar(raw[i]) {
                case "l": aligns.append(.left)
                case "c": aligns.append(.center)
                case "r": aligns.append(.right)
                default: aligns.append(.none)
                }
            }
        }
        var header: [[Inline]] = []
        var rows: [[[Inline]]] = []
        for row in children(node) {
            let cells = children(row).map { inlines(of: $0) }
            if cmark_gfm_extensions_get_table_row_is_header(row) != 0 { header = cells } else { rows.append(cells) }
        }
        return .table(header: header, alignments: aligns, rows: rows)
    }

    mutating func inlines(of node: OpaquePointer) -> [Inline] {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth {
            context.warn("Content nested more than \(Self.maxDepth) levels deep was flattened to plain text.")
            return [.text(flatText(node))]
        }
        return children(node).compactMap { inline($0) }
    }

    mutating func inline(_ node: OpaquePointer) -> Inline? {
        switch typeName(node) {
        case "text": return .text(str(cmark_node_get_literal(node)))
        case "softbreak": return .softBreak
        case "linebreak": return .lineBreak
        case "code": return .code(str(cmark_node_get_literal(node)))
        case "html_inline": return .raw(format: "html", str(cmark_node_get_literal(node)))
        case "emph": return .emphasis(inlines(of: node))
        case "strong": return .strong(inlines(of: node))
        case "strikethrough": return .strikethrough(inlines(of: node))
        case "link":
            let title = str(cmark_node_get_title(node))
            return .link(url: str(cmark_node_get_url(node)), title: title.isEmpty ? nil : title, inlines(of: node))
        case "image":
            let title = str(cmark_node_get_title(node))
            return .image(url: str(cmark_node_get_url(node)), title: title.isEmpty ? nil : title, alt: inlines(of: node))
        case "footnote_reference":
            return .text("[" + str(cmark_node_get_literal(node)) + "]")
        default:
            context.warn("A Markdown inline of type \(typeName(node)) was dropped.")
            return nil
        }
    }
}
