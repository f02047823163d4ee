import CPopplerText
import DocFlowModel
import Foundation

/// PDF input with poppler's text extraction — `pdftotext`'s TextOutputDev with its settings, so the
/// words and their order are pdftotext's: poppler's text blocks become paragraphs whose lines join
/// with soft breaks, short runs of clearly larger type become headings (`PDFPage`), and a page
/// break follows every page but the last. Files encrypted with an empty user password open;
/// password-protected ones fail with a clear message. Title, author, subject, producer and the
/// page count go to the metadata. Reading stops past a time budget (10 s + 0.1 s a page).
/// The image count is the pages' image objects. Pages are read on every core, each worker with its own poppler
/// document over the same bytes (a poppler document is not safe to share between threads).
public struct PDFReader: Reader {
    public let format = Format.pdf
    /// The time budget: `secondsBase` plus `secondsPerPage` for every page.
    let secondsBase: Double
    let secondsPerPage: Double

    public init() { self.init(secondsBase: 10, secondsPerPage: 0.1) }

    init(secondsBase: Double, secondsPerPage: Double) {
        self.secondsBase = secondsBase
        self.secondsPerPage = secondsPerPage
    }

    public func read(_ bytes: [UInt8], context: ConversionContext) throws -> Payload {
        guard Self.findHeader(bytes) else {
            throw ConversionError(.malformedInput, "The file is not a PDF (no %PDF- header).")
        }
        return try bytes.withUnsafeBufferPointer { buffer in
            let first = try Self.open(buffer)
            defer { docflow_pdf_close(first) }
            let pages = Int(docflow_pdf_page_count(first))
            var meta = Metadata()
            meta.title = Self.info(first, "Title")
            meta.author = Self.info(first, "Author")
            for (key, name) in [("Subject", "subject"), ("Producer", "producer"), ("Creator", "creator")] {
                if let s = Self.info(first, key) { meta.properties[name] = .text(s) }
            }
            meta.properties["page_count"] = .number(pages)
            let images = Int(docflow_pdf_image_count(first))
            if images >= 0 { meta.properties["image_count"] = .number(images) }
            context.progress(10, "reading \(pages) PDF page(s)")

            // A time budget for the whole document: generous for real files (300 pages take 0.2 s),
            // short enough that a decompression bomb fails its job instead of holding a runner.
            let budget = secondsBase + secondsPerPage * Double(pages)
            let deadline = Date(timeIntervalSinceNow: budget)
            let workers = pages < 8 ? 1 : min(ProcessInfo.processInfo.activeProcessorCount, 8, pages / 4)
            let parts = Parallel.map(workers) { w -> Result<[PDFPage], Error> in
                let range = (pages * w / workers)..<(pages * (w + 1) / workers)
                return Result {
                    let doc = w == 0 ? first : try Self.open(buffer)
                    defer { if w != 0 { docflow_pdf_close(doc) } }
                    var out: [PDFPage] = []
                    var damaged = false
                    defer { if damaged { context.warn("Some pages of the PDF could not be read; they are left empty.") } }
                    out.reserveCapacity(range.count)
                    for p in range {
                        let left = deadline.timeIntervalSinceNow
                        var length = 0, status: Int32 = 0, count: Int32 = 0
                        var sizes: UnsafeMutablePointer<Float>?, starts: UnsafeMutablePointer<Int32>?
                        let raw = left > 0 ? docflow_pdf_page_text(doc, Int32(p), left, &length, &status, &sizes, &starts, &count) : nil
                        defer { free(sizes); free(starts) }
                        if left <= 0 || status == Int32(DOCFLOW_PDF_TIMEOUT) {
                            throw ConversionError(.tooLarge, "Reading the PDF's text took longer than \(Int(budget)) s for \(pages) page(s); a page this slow is a decompression bomb or an extreme drawing, so Doc Flow stopped.")
                        }
                        if let raw {
                            let text = UnsafeBufferPointer(start: UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self), count: length)
                            defer { free(raw) }
                            let found = Self.lines(text)
                            if let sizes, let starts, found.count == Int(count) {
                                out.append(PDFPage(lines: (0..<found.count).map { (found[$0], sizes[$0], starts[$0] != 0) }, fallback: []))
                            } else {
                                out.append(PDFPage(lines: nil, fallback: Self.paragraphs(text)))
                            }
                        } else {
                            out.append(PDFPage(lines: nil, fallback: []))
                            damaged = true
                        }
                        if w == 0 { context.progress(10 + 50 * (p + 1) / max(range.count, 1), "reading PDF pages") }
                    }
                    return out
                }
            }
            let all = try parts.flatMap { try $0.get() }
            let blocks = PDFPage.blocks(all)
            if !blocks.contains(where: { $0 != .pageBreak }) {
                context.warn("The PDF has no text layer (scanned pages?); Doc Flow does not run OCR.")
            }
            return .document(Document(metadata: meta, blocks: blocks))
        }
    }

    /// A `%PDF-` header within the first KiB (some files start with junk, as readers allow).
    static func findHeader(_ bytes: [UInt8]) -> Bool {
        let head = bytes.prefix(1024)
        let magic = Array("%PDF-".utf8)
        return head.indices.contains { i in head[i...].starts(with: magic) }
    }

    static func open(_ buffer: UnsafeBufferPointer<UInt8>) throws -> OpaquePointer {
        var status: Int32 = 0
        let raw = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
        if let doc = docflow_pdf_open(raw, buffer.count, &status) { return doc }
        if status == Int32(DOCFLOW_PDF_PASSWORD) {
            throw ConversionError(.malformedInput, "The PDF is password-protected; Doc Flow reads only PDFs that open without a password.")
        }
        throw ConversionError(.malformedInput, "The PDF cannot be opened: it is damaged or not really a PDF.")
    }

    static func info(_ doc: OpaquePointer, _ key: String) -> String? {
        guard let p = docflow_pdf_info(doc, key) else { return nil }
        defer { free(p) }
        let s = String(cString: p).trimmingCharacters(in: .whitespacesAndNewlines)
        return s.isEmpty ? nil : s
    }

    /// The page's lines, trimmed of spaces, tabs, CRs and form feeds; nil for a blank line.
    static func trimmedLines(_ text: UnsafeBufferPointer<UInt8>) -> [String?] {
        func space(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0C || b == 0x0D }
        var out: [String?] = []
        var start = 0
        for i in 0...text.count where i == text.count || text[i] == 0x0A {
            var lo = start, hi = i
            while lo < hi, space(text[lo]) { lo += 1 }
            while hi > lo, space(text[hi - 1]) { hi -= 1 }
            out.append(lo < hi ? String(decoding: UnsafeBufferPointer(rebasing: text[lo..<hi]), as: UTF8.self) : nil)
            start = i + 1
        }
        return out
    }

    /// The page's non-blank lines, trimmed, in order.
    static func lines(_ text: UnsafeBufferPointer<UInt8>) -> [String] { trimmedLines(text).compactMap { $0 } }

    /// Paragraphs of one page's text: blank lines (and form feeds) separate them, the lines
    /// within one join with soft breaks.
    static func paragraphs(_ text: UnsafeBufferPointer<UInt8>) -> [Block] {
        var blocks: [Block] = []
        var para: [Inline] = []
        for line in trimmedLines(text) {
            guard let line else {
                if !para.isEmpty { blocks.append(.paragraph(para)); para = [] }
                continue
            }
            if !para.isEmpty { para.append(.softBreak) }
            para.append(.text(line))
        }
        if !para.isEmpty { blocks.append(.paragraph(para)) }
        return blocks
    }
}
