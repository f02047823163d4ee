import DocFlowModel

/// The text styles of the page design; each backend maps them to its fonts (`PageDesign` sizes).
enum TextStyle: Hashable {
    /// Paragraphs and list markers.
    case body
    /// A heading of level 1–6: bold, larger.
    case heading(Int)
    /// Code blocks: monospace, smaller.
    case code
    /// Table cells, and header cells (bold).
    case cell, headerCell
    /// The page number at the foot of each page.
    case pageNumber
    /// The alt text of a picture that could not be drawn: italic.
    case altText
}

/// A link over a byte range of a `RichText`.
typealias TextLink = (start: Int, end: Int, uri: String)

/// Text laid out in lines by a backend: what the page flow needs to place it.
protocol LaidOutLines {
    var lineCount: Int { get }
    /// Line `i`'s height: from its top to the next line's top.
    func height(_ i: Int) -> Double
    /// From line `i`'s top to its baseline.
    func ascent(_ i: Int) -> Double
    /// The widest line (for unwrapped text, the text's natural width).
    var width: Double { get }
}

extension LaidOutLines {
    var totalHeight: Double { (0..<lineCount).reduce(0) { $0 + height($1) } }
}

/// What draws the pages `PageFlow` lays out: measures text, draws lines, rules, rectangles and
/// pictures, and opens and closes pages. Coordinates are points from the page's top-left corner.
/// `DirectBackend` writes PDF operators itself; `PangoBackend` draws with cairo and pango.
protocol PageBackend: AnyObject {
    associatedtype Lines: LaidOutLines
    associatedtype Picture

    var options: PDFOptions { get }

    /// Lays `rich` out in `style`, wrapped at `width` (nil: only at newlines).
    func layOut(_ rich: RichText, _ style: TextStyle, width: Double?, alignment: Alignment) throws -> Lines
    /// Draws line `i` of `lines` with its baseline at `baseline` and its left edge at `x` (alignment
    /// within the laid-out width included); link areas over the runs that carry one of `links`.
    /// `color` nil: the text's own colours.
    func drawLine(_ lines: Lines, _ i: Int, x: Double, baseline: Double, links: [TextLink], color: RGB?)

    /// A filled rectangle.
    func fill(_ color: RGB, x: Double, top: Double, width: Double, height: Double)
    /// Rectangle outlines, in one stroke.
    func stroke(_ color: RGB, lineWidth: Double, rects: [(x: Double, top: Double, width: Double, height: Double)])
    /// A horizontal rule.
    func rule(_ color: RGB, lineWidth: Double, from x0: Double, to x1: Double, at y: Double)
    /// Runs `body` with drawing clipped to a rectangle.
    func clipped(x: Double, top: Double, width: Double, height: Double, _ body: () throws -> Void) rethrows

    /// The picture of a data URL, decoded (nil: it cannot be: not an image, or too large).
    func picture(_ dataURL: String) throws -> Picture?
    /// Its size in pixels.
    func pixels(_ picture: Picture) -> (width: Int, height: Int)
    /// Draws it scaled into a rectangle.
    func draw(_ picture: Picture, x: Double, top: Double, width: Double, height: Double)

    /// A new page starts (numbered from 1) / the current one is complete.
    func beginPage(_ number: Int) throws
    func endPage(_ number: Int) throws
    /// A heading for the document outline (bookmarks), at `y` on page `page`.
    func outline(level: Int, title: String, page: Int, y: Double)
    /// The finished file, with the document's title and author in its information.
    func finish(_ metadata: Metadata) throws -> [UInt8]
}

/// Colours of the page design (PDF's device RGB, 0–1).
struct RGB: Equatable {
    var r: Double, g: Double, b: Double
    static let text = RGB(r: 0.1, g: 0.1, b: 0.1)
    static let link = RGB(r: 0.047, g: 0.302, b: 0.702)
    static let pageNumber = RGB(r: 0.45, g: 0.45, b: 0.45)
    static let codeBackground = RGB(r: 0.95, g: 0.95, b: 0.95)
    static let quoteBar = RGB(r: 0.8, g: 0.8, b: 0.8)
    static let rule = RGB(r: 0.7, g: 0.7, b: 0.7)
    static let tableHeader = RGB(r: 0.93, g: 0.93, b: 0.93)
    static let tableBorder = RGB(r: 0.6, g: 0.6, b: 0.6)
}
