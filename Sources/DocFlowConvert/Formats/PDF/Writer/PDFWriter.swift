import DocFlowModel
import Foundation

/// PDF output: real, selectable text in embedded font subsets, wrapped paragraphs, lists,
/// monospace code, tables with borders whose header repeats on every page, clickable links, an
/// outline of the headings, page numbers, and the title in the document information.
///
/// One page flow (`PageFlow`: the walk over blocks, page breaks, keep-with-next) over two
/// backends. `DirectBackend` writes the PDF itself from HarfBuzz-shaped words (about 5× faster:
/// no per-paragraph layout objects, no recording surface); it takes left-to-right text the DejaVu
/// fonts cover. Anything else — a glyph from a fallback font (CJK, emoji), right-to-left scripts,
/// combining marks — goes to `PangoBackend`, cairo and pango with fontconfig's font fallback, bidi
/// and full shaping. `renderer` in the options forces one (`direct` or `pango`) for tests and
/// comparisons.
///
/// Options: `page_size` (`a4`, the default, or `letter`), `font` (`sans`, the default, `serif` or
/// `monospace`, the default for plain text input; plain text keeps its line breaks either way).
public struct PDFWriter: Writer {
    public let format = Format.pdf
    public let accepts: Set<Hub> = [.document, .table]
    public let options = [DocumentOptions.pageSize, DocumentOptions.font, DocumentOptions.renderer]
    public init() {}

    public func write(_ payload: Payload, context: ConversionContext) throws -> [UInt8] {
        let options = PDFOptions(context)
        let doc = payload.asDocument
        if options.renderer != "pango" {
            do {
                // Its own HarfBuzz faces per render (fontconfig behind a lock): renders run in parallel.
                return try PageFlow(DirectBackend(options: options, context: context), context: context).render(doc)
            } catch is NeedsPango {
                if options.renderer == "direct" {
                    throw ConversionError(.badOptions, "The direct PDF renderer cannot place this text (a script or symbol outside its fonts); leave out renderer.")
                }
            }
        }
        // cairo's font cache shares FreeType faces across the process, and parallel renders
        // crashed in FreeType (seen with tests running in parallel): one pango render at a time.
        PDFWriter.lock.lock()
        defer { PDFWriter.lock.unlock() }
        return try PageFlow(PangoBackend(options: options, context: context), context: context).render(doc)
    }

    private static let lock = NSLock()
}

/// Page geometry and fonts, from the job's options.
struct PDFOptions {
    var pageWidth = 595.276  // A4 in points
    var pageHeight = 841.89
    var margin = 56.69  // 20 mm
    var bodyFamily = "DejaVu Sans"
    var monoFamily = "DejaVu Sans Mono"
    var bodySize = 10.5
    var renderer: String?

    init(_ context: ConversionContext) {
        // Values checked against the declarations (`DocumentOptions`) before a job is queued.
        if context.options.text(DocumentOptions.pageSize) == "letter" {
            pageWidth = 612
            pageHeight = 792
        }
        // Plain text is set in monospace unless `font` says otherwise: its columns and ASCII art
        // stay aligned.
        let plain = context.sourceFormat?.id == Format.text.id ? "monospace" : nil
        switch context.options.text(DocumentOptions.font) ?? plain {
        case "serif"?: bodyFamily = "DejaVu Serif"
        case "monospace"?, "mono"?:
            bodyFamily = monoFamily
            bodySize = 9.5
        default: break
        }
        renderer = context.options.text(DocumentOptions.renderer)
    }
}
