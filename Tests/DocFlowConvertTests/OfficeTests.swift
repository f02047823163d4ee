import DocFlowModel
import Foundation
import Testing
@testable import DocFlowConvert

/// DOCX, PPTX and PDF input on real files from other projects' test suites (Tests/Fixtures).
@Suite struct OfficeInputTests {
    func document(_ reader: any Reader, _ path: String, options: [String: Any] = [:]) throws -> (Document, ConversionContext) {
        let context = try context(options, for: reader.options)
        guard case .document(let d) = try reader.read(try Fixtures.bytes(path), context: context) else {
            Issue.record("not a document"); return (Document(), context)
        }
        return (d, context)
    }

    func markdown(_ from: Format, _ path: String, options: [String: Any] = [:]) throws -> String {
        String(decoding: try convert(try Fixtures.bytes(path), from, .markdown, options: options).bytes, as: UTF8.self)
    }

    @Test func docxHeadingsAndNestedLists() throws {
        let (d, _) = try document(DOCXReader(), "docx/docling__docx_lists.docx")
        #expect(d.blocks.first == .heading(level: 1, [.text("Test Document")]))
        #expect(d.metadata.title == "Test Document")
        let md = try markdown(.docx, "docx/docling__docx_lists.docx")
        // "Test 3": a bullet list whose second item holds a nested list of three.
        #expect(md.contains("- List item 2\n  - List item 1.1\n  - List item 1.2\n  - List item 1.3\n- List item 3"), "\(md)")
        #expect(md.contains("### Test 1:"))
    }

    @Test func docxRunFormattingAndLinks() throws {
        let md = try markdown(.docx, "docx/docling__unit_test_formatting.docx")
        #expect(md.contains("Normal *italic* **bold** <u>underline</u> and [hyperlink](https://github.com/DS4SD/docling) on the same line"), "\(md)")
        #expect(md.contains("  - Nested *italic* **bold**"))
        let links = try markdown(.docx, "docx/python-docx__par-hyperlinks.docx")
        #expect(links.contains("Three hyperlinks: [the first one](http://google.com/) here, the [second one](http://python.org/), and the [third](http://yahoo.com/)."), "\(links)")
    }

    @Test func docxNotesTablesAndFields() throws {
        let notes = try markdown(.docx, "docx/mammoth__footnotes.docx")
        #expect(notes.contains("Ouch\\[1\\].\\[2\\]") && notes.contains("1. A tachyon walks into a bar.\n2. Fin."), "\(notes)")
        let (tables, context) = try document(DOCXReader(), "docx/docling__word_tables.docx")
        let count = tables.blocks.filter { if case .table = $0 { return true } else { return false } }.count
        #expect(count >= 4)
        #expect(context.warnings.contains { $0.contains("merged table cell") })
        // A date field shows its result, not its instruction.
        let field = try markdown(.docx, "docx/poi__FieldCodes.docx")
        #expect(field.contains("16 June 2010") && !field.contains("DATE"), "\(field)")
        // A page break (w:br type="page") becomes one; rendered-break marks do not.
        let (breaks, _) = try document(DOCXReader(), "docx/docling__docx_lists.docx")
        #expect(breaks.blocks.filter { $0 == .pageBreak }.count == 1)
        let (rendered, _) = try document(DOCXReader(), "docx/python-docx__par-rendered-page-breaks.docx")
        #expect(!rendered.blocks.contains(.pageBreak))
    }

    @Test func docxImagesPropertiesStrictAndRevisions() throws {
        let html = try FormatRegistry.standard.convert(try Fixtures.bytes("docx/mammoth__tiny-picture.docx"), from: .docx, to: .html, context: ConversionContext())
        #expect(String(decoding: html.bytes, as: UTF8.self).contains("<img src=\"data:image/png;base64,iVBORw0KGgo"))
        #expect(html.metadata.properties["image_count"] == .number(1))
        let (core, _) = try document(DOCXReader(), "docx/python-docx__doc-coreprops.docx")
        #expect(core.metadata.title == "Title" && core.metadata.author == "Steve Canny")
        let (strict, _) = try document(DOCXReader(), "docx/docling__Strict.docx")
        #expect(strict.blocks == [.paragraph([.text("Some text")])])
        // Deleted text is left out, inserted text kept (changes accepted, as Word's "final" view).
        let delins = try markdown(.docx, "docx/poi__delins.docx")
        #expect(!delins.isEmpty)
    }

    @Test func pdfOutputDrawsPicturesAndRefusesHugeCanvases() throws {
        let r = try FormatRegistry.standard.convert(try Fixtures.bytes("docx/python-docx__having-images.docx"), from: .docx, to: .pdf, context: ConversionContext())
        #expect(r.metadata.properties["images_embedded"] == .number(5))
        // A PNG whose header claims 100,000 × 100,000 pixels is never decoded.
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]
        png += [0x00, 0x01, 0x86, 0xA0, 0x00, 0x01, 0x86, 0xA0, 8, 6, 0, 0, 0]
        #expect(Raster.dimensions(png)! == (100_000, 100_000))
        #expect(PDFPicture(dataURL: "data:image/png;base64," + Data(png).base64EncodedString()) == nil)
        let md = try markdown(.docx, "docx/python-docx__having-images.docx")
        #expect(!md.contains("data:image"))
    }

    @Test func pptxSlidesTitlesTablesAndNotes() throws {
        let (d, _) = try document(PPTXReader(), "pptx/markitdown__test.pptx")
        #expect(d.metadata.properties["slide_count"] == .number(6))
        #expect(d.blocks.filter { $0 == .pageBreak }.count == 5)
        #expect(d.outline.map(\.text).contains("AutoGen: Enabling Next-Gen LLM Applications via Multi-Agent Conversation"), "\(d.outline)")
        let md = try markdown(.pptx, "pptx/python-pptx__tbl-cell.pptx")
        #expect(md.contains("|"), "\(md)")
        let withNotes = try markdown(.pptx, "pptx/poi__SampleShow.pptx", options: ["notes": true])
        let without = try markdown(.pptx, "pptx/poi__SampleShow.pptx")
        #expect(withNotes.contains("> **Notes**") && !without.contains("> **Notes**"))
        #expect(throws: OptionError.self) { try markdown(.pptx, "pptx/poi__SampleShow.pptx", options: ["notes": "yes"]) }
    }

    @Test func chartsBecomeTitledTables() throws {
        let md = try markdown(.pptx, "pptx/docling__pptx_chart.pptx")
        #expect(md.contains("**Wild Duck Observations by Year**\n\n|  | Freshwater Ducks | Saltwater Ducks |"), "\(md)")
        #expect(md.contains("| 2022 | 175 | 130 |"))
        let docx = try markdown(.docx, "docx/docling__drawingml.docx")
        // The cached 4.4000000000000004 reads as Excel shows it; image-only paragraphs leave no blank lines.
        #expect(docx.contains("| Category 2 | 2.5 | 4.4 | 2 |") && !docx.contains("\n\n\n"), "\(docx)")
    }

    @Test func pdfTextPagesAndPasswords() throws {
        let (d, _) = try document(PDFReader(), "pdf/docling__multi_page.pdf")
        let pages = d.metadata.properties["page_count"]
        #expect(pages == .number(5))
        #expect(d.blocks.filter { $0 == .pageBreak }.count == 4)
        let txt = try FormatRegistry.standard.convert(try Fixtures.bytes("pdf/docling__multi_page.pdf"), from: .pdf, to: .text, context: ConversionContext())
        #expect(String(decoding: txt.bytes, as: UTF8.self).components(separatedBy: "\u{0C}").count == 5)
        // Encrypted with an empty user password: opens. With a real one: a clear refusal.
        let (open, _) = try document(PDFReader(), "pdf/pypdf__r6-empty-password.pdf")
        #expect(!open.blocks.isEmpty)
        #expect(throws: ConversionError.self) { try PDFReader().read(try Fixtures.bytes("pdf/pypdf__r4-aes-user-password.pdf"), context: ConversionContext()) }
        do {
            _ = try PDFReader().read(try Fixtures.bytes("pdf/pypdf__r4-aes-user-password.pdf"), context: ConversionContext())
        } catch let e as ConversionError {
            #expect(e.message.contains("password-protected"))
        }
        let (meta, _) = try document(PDFReader(), "pdf/pypdf__metadata.pdf")
        #expect(meta.metadata.title == "The Title")
        // One image drawn on all 14 pages counts once (pdfimages lists 14 uses).
        let (fonts, _) = try document(PDFReader(), "pdf/pdfjs__standard_fonts.pdf")
        #expect(fonts.metadata.properties["image_count"] == .number(1))
        #expect(d.metadata.properties["image_count"] == .number(0))
    }

    @Test func xlsxAsDocumentTitlesEverySheet() throws {
        let r = try FormatRegistry.standard.convert(try Fixtures.bytes("xlsx/docling__xlsx_01.xlsx"), from: .xlsx, to: .markdown, context: ConversionContext())
        let md = String(decoding: r.bytes, as: UTF8.self)
        guard case .list(let sheets)? = r.metadata.properties["sheets"] else { Issue.record("no sheets"); return }
        #expect(sheets.count > 1)
        for case .text(let name) in sheets { #expect(md.contains("## " + name), "\(name)") }
        #expect(md.contains("| --- |") || md.contains("| ---: |"))
        // A sheet without cells is named and marked, not a failure of the whole workbook.
        let empty = try FormatRegistry.standard.convert(try Fixtures.bytes("xlsx/docling__xlsx_03_chartsheet.xlsx"), from: .xlsx, to: .html,
                                                         context: ConversionContext())
        #expect(!empty.bytes.isEmpty)
    }

    /// Hostile packages and PDFs fail with a clear error (or convert harmlessly), never crash or
    /// leak a local file.
    @Test(arguments: [
        ("hostile/generated__docx-billion-laughs.docx", "not well-formed"),
        ("hostile/poi__bug53475-password-is-pass.docx", "password-protected"),
        ("hostile/derived__truncated-test.docx", "not a valid zip"),
        ("hostile/generated__zero-bytes.docx", "empty"),
        ("hostile/generated__zero-bytes.pptx", "empty"),
        ("hostile/generated__zero-bytes.pdf", "not a PDF"),
        ("hostile/derived__truncated-crazyones.pdf", "damaged"),
        ("hostile/derived__docx-content-named.pdf", "not a PDF"),
        ("hostile/generated__zip-overlapping-entries.docx", "zip bomb"),
        ("hostile/poi__clusterfuzz-testcase-minimized-POIXSLFFuzzer-6254434927378432.pptx", "not a valid zip"),
    ])
    func hostileFilesFailClearly(_ path: String, _ reason: String) throws {
        let from = FormatRegistry.standard.format(forFilename: path)!
        do {
            _ = try FormatRegistry.standard.convert(try Fixtures.bytes(path), from: from, to: .markdown, context: ConversionContext())
            Issue.record("\(path) converted")
        } catch let e as ConversionError {
            #expect(e.message.contains(reason), "\(path): \(e.message)")
        }
    }

    @Test func pdfHeadingsComeBackFromTypeSizes() throws {
        // Markdown → PDF (our writer sets headings at 20 and 16 pt over 10.5 pt text) → Markdown.
        var md = "# Quarterly report\n\n"
        for s in ["Revenue", "Costs", "Outlook"] {
            md += "## \(s)\n\n" + String(repeating: "The figures for this part of the year are set out in the tables that follow. ", count: 12) + "\n\n"
        }
        let pdf = try FormatRegistry.standard.convert(Array(md.utf8), from: .markdown, to: .pdf, context: ConversionContext())
        guard case .document(let d) = try PDFReader().read(pdf.bytes, context: ConversionContext()) else { return }
        #expect(d.outline.map { "\($0.level) \($0.text)" } == ["1 Quarterly report", "2 Revenue", "2 Costs", "2 Outlook"])
        #expect(d.blocks.filter { if case .paragraph = $0 { return true } else { return false } }.count >= 3)
    }

    @Test func aPDFThatTakesTooLongStops() throws {
        // 256 MiB of page content behind a 260 KB flate stream: stopped by the time budget
        // (10 s in service; 0.3 s here).
        let bomb = try Fixtures.bytes("hostile/generated__pdf-flate-bomb-256MiB-content.pdf")
        let started = Date()
        do {
            _ = try PDFReader(secondsBase: 0.3, secondsPerPage: 0).read(bomb, context: ConversionContext())
            Issue.record("the bomb was read")
        } catch let e as ConversionError {
            #expect(e.code == .tooLarge && e.message.contains("decompression bomb"))
        }
        #expect(Date().timeIntervalSince(started) < 3)
    }

    @Test func entitiesAreNeverExpanded() throws {
        for path in ["hostile/generated__docx-xxe-local-file.docx", "hostile/poi__ExternalEntityInText.docx"] {
            let md = try markdown(.docx, path)
            #expect(!md.contains("root:") && !md.contains("<!ENTITY"), "\(path): \(md)")
        }
    }
}
