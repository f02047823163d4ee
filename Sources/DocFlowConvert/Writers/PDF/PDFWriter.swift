import DocFlowModel
import Foundation

/// PDF output with cairo and pango: real, selectable text in embedded font subsets (pango's
/// fontconfig fallback covers scripts the body font lacks), wrapped paragraphs, lists, monospace
/// code, tables with borders whose header repeats on every page, clickable links, an outline of the
/// headings, page numbers, and the title in the document information.
///
/// Options: `page_size` (`a4`, the default, or `letter`), `font` (`sans`, the default, `serif` or
/// `monospace`; plain text keeps its line breaks either way).
public struct PDFWriter: Writer {
    public let format = Format.pdf
    public let accepts: Set<Hub> = [.document, .table]
    public init() {}

    public func write(_ payload: Payload, context: ConversionContext) throws -> [UInt8] {
        let options = try PDFOptions(context)
        // cairo's font cache shares FreeType faces across the process, and parallel renders
        // crashed in FreeType (seen with tests running in parallel): one render at a time. The
        // runner converts on one thread anyway, so this costs it nothing.
        PDFWriter.lock.lock()
        defer { PDFWriter.lock.unlock() }
        let renderer = try PDFRenderer(options: options, context: context)
        return try renderer.render(payload.asDocument)
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

    init(_ context: ConversionContext) throws {
        switch context.string("page_size")?.lowercased() {
        case nil, "a4": break
        case "letter":
            pageWidth = 612
            pageHeight = 792
        case let other?:
            throw ConversionError(.badOptions, "Option page_size must be \"a4\" or \"letter\", not \"\(other)\".")
        }
        switch context.string("font")?.lowercased() {
        case nil, "sans": break
        case "serif": bodyFamily = "DejaVu Serif"
        case "monospace", "mono":
            bodyFamily = monoFamily
            bodySize = 9.5
        case let other?:
            throw ConversionError(.badOptions, "Option font must be \"sans\", \"serif\" or \"monospace\", not \"\(other)\".")
        }
    }
}
