import DocFlowConvert
import DocFlowModel
import Foundation
import Testing

@Suite struct HTMLReaderTests {
    func read(_ html: String) throws -> Document {
        guard case .document(let d) = try HTMLReader().read(Array(html.utf8), context: ConversionContext()) else {
            throw ConversionError(.internal, "not a document")
        }
        return d
    }

    @Test func structureIsMappedAndNoiseDropped() throws {
        let doc = try read("""
            <html><head><title>T</title><style>p{}</style><script>alert(1)</script></head><body>
            <nav>menu</nav><h2>Head <em>x</em></h2><!-- comment --><p>Hello <b>bold</b>
            <a href="https://x.org" title="t">link</a><br>next</p><ul><li>one<li><input type=checkbox checked>two</ul>
            <ol start="3"><li>three</ol><table><tr><th>a<th align=right>b<tr><td>1<td>2</table>
            <pre><code class="language-swift">let x = 1</code></pre><blockquote><p>q</p></blockquote><hr>
            <p><img src="i.png" alt="pic"> <code>c  d</code> <del>gone</del></p></body></html>
            """)
        #expect(doc.metadata.title == "T")
        #expect(doc.blocks[0] == .heading(level: 2, [.text("Head "), .emphasis([.text("x")])]))
        #expect(doc.blocks[1] == .paragraph([.text("Hello "), .strong([.text("bold")]), .text(" "),
                                             .link(url: "https://x.org", title: "t", [.text("link")]), .lineBreak, .text("next")]))
        guard case .list(false, _, true, let items) = doc.blocks[2] else { Issue.record("no list"); return }
        #expect(items.map(\.checked) == [nil, true])
        guard case .list(true, 3, _, _) = doc.blocks[3] else { Issue.record("no ordered list"); return }
        #expect(doc.blocks[4] == .table(header: [[.text("a")], [.text("b")]], alignments: [.none, .right], rows: [[[.text("1")], [.text("2")]]]))
        #expect(doc.blocks[5] == .codeBlock(language: "swift", "let x = 1\n"))
        #expect(doc.blocks[6] == .blockQuote([.paragraph([.text("q")])]))
        #expect(doc.blocks[7] == .thematicBreak)
        #expect(doc.blocks[8] == .paragraph([.image(url: "i.png", title: nil, alt: [.text("pic")]), .text(" "), .code("c d"),
                                             .text(" "), .strikethrough([.text("gone")])]))
        let all = "\(doc.blocks)"
        #expect(!all.contains("alert") && !all.contains("menu") && !all.contains("comment") && !all.contains("p{}"))
    }

    @Test func entitiesAndDeclaredEncodingsAreHonoured() throws {
        #expect(try read("<p>&amp; &lt;x&gt; &copy; &#8364;</p>").blocks == [.paragraph([.text("& <x> © €")])])
        let latin1: [UInt8] = Array("<meta charset=\"windows-1252\"><p>caf".utf8) + [0xE9] + Array("</p>".utf8)
        guard case .document(let d) = try HTMLReader().read(latin1, context: ConversionContext()) else { return }
        #expect(d.blocks == [.paragraph([.text("café")])])
        #expect(try read("<p>Ünïcode “quotes”</p>").blocks == [.paragraph([.text("Ünïcode “quotes”")])])
    }

    /// HTML written from Markdown reads back to the same Markdown (HTML → Markdown keeps the structure).
    /// (Soft line breaks become spaces in HTML, and raw HTML is not written: the sample has neither.)
    @Test func htmlOfMarkdownReadsBackToTheSameMarkdown() throws {
        let md = Array(#"""
            # Title

            Some *text* with `code`, a [link](https://x.org "t"), ~~gone~~ and 1. not a list.

            - [x] done
            - [ ] todo
              - nested

            1. one
            2. two

            > quote

            | a | b |
            | :--- | ---: |
            | 1 | 2 |

            ````swift
            let x = "```"
            ````

            Line one\
            line two

            ---

            ![alt text](img.png)

            """#.utf8)
        let html = try convert(md, .markdown, .html).bytes
        let back = try convert(html, .html, .markdown).bytes
        #expect(String(decoding: back, as: UTF8.self) == String(decoding: md, as: UTF8.self))
    }

    @Test(arguments: ["hostile/generated__html-nested-divs-50k.html", "hostile/generated__html-unclosed-table-cells.html"])
    func hostileNestingConvertsWithinLimits(_ path: String) throws {
        _ = try convert(Fixtures.bytes(path), .html, .markdown)
        _ = try convert(Fixtures.bytes(path), .html, .text)
    }

    @Test func emptyHTMLFailsClearly() {
        #expect(throws: ConversionError.self) { try HTMLReader().read([], context: ConversionContext()) }
    }
}
