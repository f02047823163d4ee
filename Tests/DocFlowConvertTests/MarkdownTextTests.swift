import DocFlowConvert
import DocFlowModel
import Foundation
import Testing

@Suite struct MarkdownTextTests {
    func md(_ bytes: [UInt8]) throws -> [UInt8] { try convert(bytes, .markdown, .markdown).bytes }
    func html(_ bytes: [UInt8]) throws -> String { String(decoding: try convert(bytes, .markdown, .html).bytes, as: UTF8.self) }

    static let sample = """
    # Title

    Some *text* with `code`, a [link](https://x.org "t"), ~~gone~~ and 1. not a list.
    Literal \\*stars\\* and a \\# hash, <b>html</b>.

    - [x] done
    - [ ] todo
      - nested

    1. one
    2. two

    > quote
    > more

    | a | b |
    |:--|--:|
    | 1 | 2 |

    ```swift
    let x = "```"
    ```

    Line one\\
    line two

    ---

    ![alt text](img.png)
    """

    /// Markdown → Markdown: the second pass changes nothing, and the HTML of the rewritten
    /// Markdown equals the HTML of the original (the structure is kept).
    @Test(arguments: ["sample", "md/docling__blocks.md", "md/docling__nested.md", "md/docling__inline_and_formatting.md"])
    func markdownRoundTripIsStableAndKeepsStructure(_ source: String) throws {
        let original = source == "sample" ? Array(Self.sample.utf8) : try Fixtures.bytes(source)
        let once = try md(original)
        let twice = try md(once)
        #expect(String(decoding: twice, as: UTF8.self) == String(decoding: once, as: UTF8.self))
        #expect(try html(once) == html(original))
    }

    @Test func plainTextKeepsParagraphsAndLineBreaks() throws {
        let text = "First line\nsecond line\r\n\n\nNext paragraph with <tags> & stuff\n"
        let out = String(decoding: try convert(Array(text.utf8), .text, .html).bytes, as: UTF8.self)
        #expect(out.contains("<p>First line<br>\nsecond line</p>"))
        #expect(out.contains("<p>Next paragraph with &lt;tags&gt; &amp; stuff</p>"))
        #expect(out.contains("<title>First line</title>"))
        let back = String(decoding: try convert(Array(text.utf8), .text, .text).bytes, as: UTF8.self)
        #expect(back == "First line\nsecond line\n\nNext paragraph with <tags> & stuff\n")
    }

    @Test func textIsEscapedForMarkdown() throws {
        let text = "a *b* _c_ [d](e) # f\n\n- not a list\n\n1. not a list either\n\n    not code\nnot a heading\n=====\n"
        let once = try convert(Array(text.utf8), .text, .markdown).bytes
        // Read back as Markdown, the text is the same text, with no emphasis, link or list.
        guard case .document(let doc) = try MarkdownReader().read(once, context: ConversionContext()) else { return }
        #expect(doc.blocks.count == 4)
        for b in doc.blocks {
            guard case .paragraph(let inl) = b else { Issue.record("not a paragraph: \(b)"); continue }
            #expect(inl.allSatisfy {
                switch $0 {
                case .text, .lineBreak, .softBreak: return true
                default: return false
                }
            })
        }
        #expect(Inline.plainText({ if case .paragraph(let i) = doc.blocks[0] { return i } else { return [] } }()) == "a *b* _c_ [d](e) # f")
    }

    @Test func markdownToTextIsReadable() throws {
        let out = String(decoding: try convert(Array(Self.sample.utf8), .markdown, .text).bytes, as: UTF8.self)
        #expect(out.hasPrefix("Title\n=====\n"))
        #expect(out.contains("a link <https://x.org>"))
        #expect(out.contains("* [x] done"))
        #expect(out.contains("1. one\n2. two"))
        #expect(out.contains("    let x = \"```\""))
        #expect(out.contains("a  b\n-  -\n1  2"))
        #expect(!out.contains("<b>"))
    }

    @Test func csvBecomesAMarkdownTable() throws {
        let out = String(decoding: try convert(Array("n,name\n1,a|b\n".utf8), .csv, .markdown).bytes, as: UTF8.self)
        #expect(out == "| n | name |\n| ---: | --- |\n| 1 | a\\|b |\n")
    }
}
