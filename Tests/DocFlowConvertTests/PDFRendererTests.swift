import DocFlowConvert
import DocFlowModel
import Foundation
import Testing

/// The two PDF renderers: the direct writer (HarfBuzz words, PDF written by us) takes the text
/// its fonts cover, and hands anything else to cairo + pango. Both must give a reader the same
/// words, and the direct writer's files must be structurally valid (qpdf --check).
@Suite struct PDFRendererTests {
    let helper = PDFWriterTests()

    func producer(_ pdf: PDFWriterTests.PDF) throws -> String { try pdf.info["Producer"] ?? "" }

    @Test func bothRenderersGiveTheSameWordsAndTheDirectFileIsValid() throws {
        let direct = try helper.pdf(PDFWriterTests.long, .markdown, options: ["renderer": "direct"])
        let pango = try helper.pdf(PDFWriterTests.long, .markdown, options: ["renderer": "pango"])
        #expect(try producer(direct) == "Doc Flow")
        #expect(try producer(pango).contains("cairo"))
        let a = try direct.text.split(whereSeparator: \.isWhitespace), b = try pango.text.split(whereSeparator: \.isWhitespace)
        #expect(a.count > 3000)
        // Lines may break in other places (a word broken inside itself differs); words agree.
        let common = Set(a).intersection(Set(b))
        #expect(Double(common.count) / Double(Set(a).union(Set(b)).count) > 0.97)
        let (dp, pp) = (try direct.pages, try pango.pages)
        #expect(abs(dp - pp) <= 1, "direct \(dp) pages, pango \(pp)")
        let check = String(decoding: try run("qpdf", ["--check", direct.url.path]), as: UTF8.self)
        #expect(check.contains("No syntax or stream encoding errors"), "\(check)")
        // Fonts are embedded subsets with a ToUnicode map (the columns emb, sub, uni of pdffonts).
        let fonts = String(decoding: try run("pdffonts", [direct.url.path]), as: UTF8.self).split(separator: "\n").dropFirst(2)
        #expect(fonts.count >= 3)
        for f in fonts { #expect(f.contains("CID TrueType") && f.contains("yes yes yes"), "\(f)") }
        // The default is the direct writer.
        #expect(try producer(helper.pdf(PDFWriterTests.long, .markdown)) == "Doc Flow")
    }

    /// Both backends draw one page flow (`PageFlow`): the same document gives the same number of
    /// pages and, page by page, the same words in the same order — headings kept with what
    /// follows, lists, quotes, code, a rule, a table whose header repeats, explicit page breaks.
    @Test func bothBackendsDrawTheSamePagesInTheSameWordOrder() throws {
        var md = String(decoding: PDFWriterTests.long, as: UTF8.self)
        md += "\n\n> A quotation\n> - with a list\n> - of two items\n\n---\n\n```\nlet code = 1\n```\n\n"
        md += "| name | amount | note |\n| --- | ---: | :---: |\n"
        for i in 1...120 { md += "| row \(i) | \(i * 7) | note \(i % 5) |\n" }
        md += "\n1. one\n2. two\n   - nested\n\n## The end\n\nLast words.\n"
        let direct = try helper.pdf(Array(md.utf8), .markdown, options: ["renderer": "direct"])
        let pango = try helper.pdf(Array(md.utf8), .markdown, options: ["renderer": "pango"])
        let pages = try direct.pages
        #expect(pages > 8)
        #expect(try pango.pages == pages)
        #expect(direct.result.metadata.properties["page_count"] == pango.result.metadata.properties["page_count"])
        // The words in the same order, page by page. The backends measure lines a little apart
        // (pango's line height vs HarfBuzz's ascent + descent; a word longer than a line is broken
        // inside itself at other glyphs), so a page may end a few lines sooner in one of them:
        // each page starts at the same place in the text, give or take three body lines.
        func pageTexts(_ pdf: PDFWriterTests.PDF) throws -> [String] {
            try (1...pages).map { page in
                var lines = String(decoding: try run("pdftotext", ["-enc", "UTF-8", "-f", "\(page)", "-l", "\(page)", pdf.url.path, "-"]), as: UTF8.self)
                    .split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                #expect(lines.last == "\(page)", "page \(page) ends with its number")
                lines.removeLast()  // the page number
                return lines.joined().filter { !$0.isWhitespace }
            }
        }
        let (a, b) = (try pageTexts(direct), try pageTexts(pango))
        #expect(a.joined() == b.joined())
        var (startA, startB) = (0, 0)
        for page in 0..<pages {
            #expect(abs(startA - startB) < 3 * 95, "page \(page + 1) starts at character \(startA) (direct) and \(startB) (pango)")
            startA += a[page].count
            startB += b[page].count
        }
    }

    @Test func textTheDirectWriterCannotPlaceGoesToPango() throws {
        for (sample, why) in [("שלום עולם, hello", "right to left"), ("漢字とかな", "no glyph in DejaVu"), ("q\u{0323}uote", "a mark positioned on its letter")] {
            let md = Array("# Mixed\n\nLatin text then \(sample) and more.\n".utf8)
            let out = try helper.pdf(md, .markdown)
            #expect(try producer(out).contains("cairo"), "\(why)")
            #expect(try out.text.contains("Latin text then"))
            #expect(throws: ConversionError.self, "\(why)") { _ = try convert(md, .markdown, .pdf, options: ["renderer": "direct"]) }
        }
        #expect(throws: OptionError.self) { _ = try convert(Array("x".utf8), .text, .pdf, options: ["renderer": "fast"]) }
    }

    @Test func directWriterDetails() throws {
        // A precomposed pair stays direct: HarfBuzz composes e + U+0301 into é.
        #expect(try producer(helper.pdf(Array("e\u{0301}t\u{00E9}\n".utf8), .text)) == "Doc Flow")
        // Kerning, tabs, long words broken inside themselves, styles, a link.
        let md = "# AVAWAY Title\n\nWAVE To Yo **bold** *italic* ~~strike~~ `code` [site](https://example.org/ä?q=1) "
            + String(repeating: "y", count: 400) + "\n\n```\na\tb\tc\n```\n"
        let out = try helper.pdf(Array(md.utf8), .markdown, options: ["renderer": "direct"])
        let text = try out.text
        #expect(text.contains("AVAWAY Title") && text.contains("WAVE To Yo bold italic strike code site"))
        #expect(text.replacingOccurrences(of: "\n", with: "").contains(String(repeating: "y", count: 400)))
        let raw = String(decoding: try run("qpdf", ["--qdf", "--object-streams=disable", out.url.path, "-"]), as: UTF8.self)
        #expect(raw.contains("/URI (https://example.org/%C3%A4?q=1)"))
        #expect(raw.contains("/Title (AVAWAY Title)"))
        // Kerned pairs appear as TJ adjustments between glyphs.
        #expect(raw.range(of: #"> ?-?[0-9.]+ ?<"#, options: .regularExpression) != nil)
        #expect(try out.info["Title"] == "AVAWAY Title")
        #expect(try out.ink(page: 1) > 0.003)
    }
}
