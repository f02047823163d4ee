import DocFlowConvert
import DocFlowModel
import Foundation
import Testing

@Suite struct MarkdownHTMLTests {
    func read(_ md: String) throws -> Document {
        guard case .document(let d) = try MarkdownReader().read(Array(md.utf8), context: ConversionContext()) else {
            throw ConversionError(.internal, "not a document")
        }
        return d
    }

    func html(_ md: String) throws -> String {
        String(decoding: try convert(Array(md.utf8), .markdown, .html).bytes, as: UTF8.self)
    }

    @Test func gfmStructureReachesTheModel() throws {
        let doc = try read("# Title\n\n- [x] done\n- [ ] todo\n\n| a | b |\n|:--|--:|\n| 1 | ~~2~~ |\n\n```swift\nlet x = 1\n```\n")
        #expect(doc.metadata.title == "Title")
        #expect(doc.blocks.first == .heading(level: 1, [.text("Title")]))
        guard case .list(false, _, _, let items) = doc.blocks[1] else { Issue.record("no list"); return }
        #expect(items.map(\.checked) == [true, false])
        guard case .table(let header, let aligns, let rows) = doc.blocks[2] else { Issue.record("no table"); return }
        #expect(header == [[.text("a")], [.text("b")]])
        #expect(aligns == [.left, .right])
        #expect(rows == [[[.text("1")], [.strikethrough([.text("2")])]]])
        #expect(doc.blocks[3] == .codeBlock(language: "swift", "let x = 1\n"))
    }

    /// cmark-gfm switches extension characters in a process-wide table during each parse; parses
    /// running at once must still all see their strikethrough.
    @Test func parallelParsesKeepTheirExtensions() async throws {
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<64 {
                group.addTask {
                    let doc = try self.read("| a |\n|---|\n| ~~x~~ |\n\n~~y~~ and ~~z~~\n")
                    guard case .table(_, _, let rows) = doc.blocks.first,
                          case .paragraph(let inl) = doc.blocks.last else { return false }
                    return rows == [[[.strikethrough([.text("x")])]]] && inl.first == .strikethrough([.text("y")])
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 64 && results.allSatisfy { $0 })
    }

    @Test func htmlIsEscapedAndRawHTMLOmitted() throws {
        let out = try html("a < b & <script>alert(1)</script>\n\n<div onclick=x>raw</div>\n\n[x](javascript:alert(1))\n")
        #expect(out.contains("a &lt; b &amp;"))
        #expect(!out.contains("<script>"))
        #expect(!out.contains("<div onclick"))
        #expect(!out.contains("javascript:"))
        #expect(out.hasPrefix("<!DOCTYPE html>"))
    }

    @Test func blocksMatchesGolden() throws {
        let out = try convert(Fixtures.bytes("md/docling__blocks.md"), .markdown, .html)
        #expect(try Fixtures.matchesGolden(out.bytes, "md/docling__blocks.golden.html"))
    }

    @Test(arguments: ["md/docling__nested.md", "md/docling__inline_and_formatting.md"])
    func realFilesConvert(_ path: String) throws {
        let out = try convert(Fixtures.bytes(path), .markdown, .html)
        let text = String(decoding: out.bytes, as: UTF8.self)
        #expect(text.contains("</html>"))
        #expect(text.contains("<h1>") || text.contains("<h2>"))
    }

    /// Hostile nesting: converts (cmark caps nesting) without exhausting the stack.
    @Test(arguments: ["hostile/generated__md-nested-blockquotes-50k.md", "hostile/generated__md-nested-brackets-50k.md",
                      "hostile/generated__md-nested-list-markers-10k.md"])
    func deepNestingDoesNotCrash(_ path: String) throws {
        let out = try convert(Fixtures.bytes(path), .markdown, .html)
        #expect(out.bytes.count > 0)
    }

    @Test func registryListsTheMatrix() {
        let reg = FormatRegistry.standard
        #expect(reg.targets(from: .markdown).map(\.id) == ["extract", "html", "pdf", "txt"])
        let tabular = ["csv", "json", "jsonl", "parquet", "xlsx"]
        for from in tabular {
            // Every tabular format to every other (the 12 conversions and JSON Lines), and to documents.
            let want = (tabular + ["extract", "html", "md", "pdf", "txt"]).filter { $0 != from }.sorted()
            #expect(reg.targets(from: reg.format(named: from)!).map(\.id) == want, "\(from)")
        }
        #expect(reg.targets(from: .text).map(\.id) == ["extract", "html", "md", "pdf"])
        #expect(reg.targets(from: .html).map(\.id) == ["extract", "md", "pdf", "txt"])
        #expect(reg.format(forFilename: "Report.MARKDOWN") == .markdown)
        #expect(reg.format(forFilename: "noext") == nil)
        for office in ["docx", "pptx"] {
            #expect(reg.targets(from: reg.format(named: office)!).map(\.id) == ["extract", "html", "md", "pdf", "txt"])
        }
        #expect(reg.targets(from: .pdf).map(\.id) == ["extract", "html", "md", "txt"])
        #expect(reg.format(named: "doc") == nil)
    }
}
