import DocFlowConvert
import DocFlowModel
import Foundation
import Testing

/// PDF output checked with poppler's tools, as a reader of the file would see it: the text
/// (pdftotext), the page count, size and title (pdfinfo) and a rendered page (pdftoppm).
@Suite struct PDFWriterTests {
    struct PDF {
        let bytes: [UInt8]
        let result: ConversionResult
        let url: URL

        var text: String { get throws { String(decoding: try run("pdftotext", ["-enc", "UTF-8", url.path, "-"]), as: UTF8.self) } }
        var info: [String: String] {
            get throws {
                let out = String(decoding: try run("pdfinfo", [url.path]), as: UTF8.self)
                var fields: [String: String] = [:]
                for line in out.split(separator: "\n") {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                return fields
            }
        }
        var pages: Int { get throws { Int(try info["Pages"] ?? "") ?? -1 } }

        /// The share of dark pixels on a page rendered in grey at 30 dpi.
        func ink(page: Int) throws -> Double {
            let pgm = try run("pdftoppm", ["-gray", "-r", "30", "-f", "\(page)", "-l", "\(page)", url.path])
            // P5 header: magic, width, height, maxval, each followed by whitespace.
            var fields = 0, i = 0
            while fields < 4, i < pgm.count {
                while i < pgm.count, pgm[i] == 0x20 || pgm[i] == 0x0A { i += 1 }
                while i < pgm.count, pgm[i] != 0x20 && pgm[i] != 0x0A { i += 1 }
                fields += 1
            }
            let pixels = pgm[(i + 1)...]
            return Double(pixels.filter { $0 < 128 }.count) / Double(max(pixels.count, 1))
        }
    }

    func pdf(_ input: [UInt8], _ from: Format, options: [String: Any] = [:]) throws -> PDF {
        let result = try convert(input, from, .pdf, options: options)
        return PDF(bytes: result.bytes, result: result, url: try temporaryFile(result.bytes, name: "out.pdf"))
    }

    /// Every word of `words` appears in `text` in order. Whitespace is ignored on the PDF side,
    /// since a word longer than a line is wrapped inside itself.
    func containsInOrder(_ text: String, _ words: [String]) -> (Bool, String?) {
        let stream = String(text.unicodeScalars.filter { !CharacterSet.whitespacesAndNewlines.contains($0) })
        var pos = stream.startIndex
        for w in words {
            guard let r = stream.range(of: w, range: pos..<stream.endIndex) else { return (false, w) }
            pos = r.upperBound
        }
        return (true, nil)
    }

    /// The words of a document as a reader sees them (markup gone).
    func words(_ input: [UInt8], _ from: Format) throws -> [String] {
        let text = String(decoding: try convert(input, from, .text).bytes, as: UTF8.self)
        // The TXT writer marks structure with characters of its own; keep only the words.
        return text.split(whereSeparator: \.isWhitespace).map(String.init).filter { w in
            !w.allSatisfy { "=-*#>|:•[]x".contains($0) } && !w.contains("://")
        }.map { w in w.trimmingCharacters(in: CharacterSet(charactersIn: "|")) }
    }

    /// A long generated document: sections of paragraphs, lists, code, quotes, then a table of
    /// 120 rows that spans pages, and text in four scripts.
    static let long: [UInt8] = {
        var rng: UInt64 = 7
        func next() -> Int { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return Int(rng >> 33) }
        let vocab = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega".split(separator: " ")
        func words(_ n: Int) -> String { (0..<n).map { _ in String(vocab[next() % vocab.count]) }.joined(separator: " ") }
        var md = "# Long document\n\n"
        for s in 1...7 {
            md += "## Section \(s)\n\n"
            for _ in 0..<4 { md += words(80) + "\n\n" }
            md += "- first item with [a link](https://example.com/s\(s))\n- second item\n  1. nested one\n  2. nested two\n\n"
            md += "```\nfor i in range(10):\n    print(i)  # long: " + String(repeating: "x", count: 150) + "\n```\n\n"
            md += "> quoted " + words(40) + "\n\n"
        }
        md += "| Name | Value | Notes |\n|---|--:|---|\n"
        for i in 0..<120 { md += "| row\(i) | \(i * 7) | " + words(1 + next() % 25) + " |\n" }
        md += "\nPortuguês: ação, coração. Ελληνικά: καλημέρα κόσμε. Русский: привет мир.\n"
        return Array(md.utf8)
    }()

    @Test func markdownBecomesSearchableTextInOrder() throws {
        let out = try pdf(Self.long, .markdown)
        let text = try out.text
        let (ok, missing) = containsInOrder(text, try words(Self.long, .markdown))
        #expect(ok, "missing or out of order: \(missing ?? "")")
        #expect(text.contains("Ελληνικά: καλημέρα κόσμε") && text.contains("привет мир") && text.contains("coração"))
        #expect(try out.pages >= 5)
        #expect(out.result.metadata.properties["page_count"] == .number(try out.pages))
        #expect(try out.info["Title"] == "Long document")
        #expect(try out.info["Page size"]?.hasPrefix("595.276 x 841.89") == true)
        #expect(try out.ink(page: 1) > 0.005)
    }

    @Test func tableHeaderRepeatsOnEveryPageItSpans() throws {
        let out = try pdf(Self.long, .markdown)
        let pages = try out.pages
        var tablePages = 0
        for p in 1...pages {
            let page = String(decoding: try run("pdftotext", ["-f", "\(p)", "-l", "\(p)", "-enc", "UTF-8", out.url.path, "-"]), as: UTF8.self)
            guard page.contains("row") else { continue }
            tablePages += 1
            #expect(page.contains("Name") && page.contains("Notes"), "page \(p) has rows but no header")
        }
        #expect(tablePages >= 2)
    }

    @Test func linksAreClickableAndScriptLinksAreNot() throws {
        let md = Array("See [the site](https://example.org/a?b=1) and [bad](javascript:alert(1)).\n".utf8)
        let out = try pdf(md, .markdown)
        let raw = String(decoding: out.bytes, as: UTF8.self)
        #expect(raw.contains("/URI (https://example.org/a?b=1)"))
        #expect(!raw.contains("javascript"))
        #expect(try out.text.contains("See the site and bad."))
    }

    @Test func headingsBecomeThePDFOutline() throws {
        let out = try pdf(Self.long, .markdown)
        let raw = String(decoding: out.bytes, as: UTF8.self)
        #expect(raw.contains("/Outlines"))
        #expect(raw.contains("(Section 7)"))
        let outline = out.result.metadata.properties["outline"]?.json ?? ""
        #expect(outline.hasPrefix("[{\"level\": 1, \"text\": \"Long document\"}, {\"level\": 2, \"text\": \"Section 1\"}"))
        let counted = try convert(Array("# Two words\n\nAnd *three* more, `code` | x\n\n- item\n".utf8), .markdown, .pdf)
        #expect(counted.metadata.properties["word_count"] == 9)
        #expect(counted.metadata.title == "Two words")
    }

    @Test func plainTextKeepsItsLineBreaks() throws {
        let txt = Array("First line\n  indented second line\nthird\n\nNew paragraph after a blank line.\n".utf8)
        for font in ["sans", "monospace"] {
            let out = try pdf(txt, .text, options: ["font": font])
            let lines = try out.text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            #expect(Array(lines.prefix(4)) == ["First line", "indented second line", "third", "New paragraph after a blank line."])
            #expect(try out.info["Title"] == "First line")
        }
    }

    @Test func letterPagesAndBadOptions() throws {
        let out = try pdf(Array("# Letter\n\ntext\n".utf8), .markdown, options: ["page_size": "letter"])
        #expect(try out.info["Page size"]?.hasPrefix("612 x 792") == true)
        #expect(throws: OptionError.self) { try convert(Array("x\n".utf8), .text, .pdf, options: ["page_size": "a5"]) }
        #expect(throws: OptionError.self) { try convert(Array("x\n".utf8), .text, .pdf, options: ["font": "comic"]) }
    }

    @Test func emptyAndHostileInputsStillMakeAValidPDF() throws {
        let empty = try pdf(Array("\n".utf8), .markdown)
        #expect(try empty.pages == 1)
        let nested = try pdf(try Fixtures.bytes("hostile/generated__md-nested-blockquotes-50k.md"), .markdown)
        #expect(try nested.pages >= 1)
        let html = try pdf(try Fixtures.bytes("hostile/generated__html-unclosed-table-cells.html"), .html)
        #expect(try html.pages >= 1)
    }

    @Test func tablesBecomeDocumentsToo() throws {
        let out = try pdf(try Fixtures.bytes("csv/csvkit__iris.csv"), .csv)
        let text = try out.text
        #expect(text.contains("sepal_length") || text.contains("sepal"))
        #expect(try out.pages >= 3)
    }
}

/// The corpus's stress files for text: the UTF-8 decoder test (malformed sequences, a NUL) and the
/// big list of naughty strings go to every document format without a crash.
@Suite struct StressTextTests {
    @Test(arguments: ["txt/unicode-study__UTF-8-test.txt", "txt/blns__blns.txt"])
    func stressFilesConvertToEveryDocumentFormat(path: String) throws {
        let bytes = try Fixtures.bytes(path)
        for from in [Format.text, .markdown] {
            for to in FormatRegistry.standard.targets(from: from) {
                let out = try convert(bytes, from, to)
                #expect(out.bytes.count > 1000, "\(from.id) → \(to.id)")
            }
        }
        let pdf = try convert(bytes, .text, .pdf)
        let url = try temporaryFile(pdf.bytes, name: "stress.pdf")
        let text = String(decoding: try run("pdftotext", ["-enc", "UTF-8", url.path, "-"]), as: UTF8.self)
        #expect(text.count > 1000)
    }

    @Test func aStrayNULIsReplacedAndBinaryIsRefused() throws {
        let one = try convert(Array("before\u{0}after\n".utf8), .text, .html)
        #expect(String(decoding: one.bytes, as: UTF8.self).contains("before\u{FFFD}after"))
        #expect(one.warnings.contains { $0.contains("NUL") })
        #expect(throws: ConversionError.self) { try convert([UInt8](repeating: 0, count: 100) + Array("x".utf8), .text, .html) }
    }
}
