import DocFlowModel

/// Text with the byte ranges of its styles and links, ready to become a pango layout.
struct RichText {
    enum Style { case bold, italic, strike, underline, mono, link }
    var text = ""
    var spans: [(start: Int, end: Int, style: Style)] = []
    var links: [(start: Int, end: Int, uri: String)] = []
    var images = 0
    /// When set, images with data URLs are collected in `pictures` (drawn below the text) rather
    /// than shown as their alt text.
    var embedImages = false
    var pictures: [(url: String, alt: String)] = []

    init() {}

    init(text: String) { self.text = text }

    /// The text of inlines, styled.
    init(_ inlines: [Inline]) { add(inlines) }

    mutating func append(_ s: String) { text += RichText.printable(s) }

    /// pango wants valid UTF-8 without control characters other than tab and newline.
    static func printable(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A }) else { return s }
        return String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 && $0 != "\t" && $0 != "\n" ? "\u{FFFD}" : $0 }))
    }

    mutating func add(_ inlines: [Inline]) {
        for inline in inlines {
            switch inline {
            case .text(let s): append(s)
            case .code(let s): styled(.mono) { $0.append(s) }
            case .emphasis(let c): styled(.italic) { $0.add(c) }
            case .strong(let c): styled(.bold) { $0.add(c) }
            case .strikethrough(let c): styled(.strike) { $0.add(c) }
            case .underline(let c): styled(.underline) { $0.add(c) }
            case .link(let url, _, let c):
                let start = text.utf8.count
                styled(.link) { $0.add(c) }
                if RichText.isSafeLink(url) { links.append((start, text.utf8.count, url)) }
            case .image(let url, _, let alt) where embedImages && url.hasPrefix("data:image/"):
                pictures.append((url, Inline.plainText(alt)))
            case .image(_, _, let alt):
                images += 1
                styled(.italic) { r in
                    let a = Inline.plainText(alt)
                    r.append(a.isEmpty ? "[image]" : "[image: \(a)]")
                }
            case .softBreak: text += " "
            case .lineBreak: text += "\n"
            case .math(_, let linear, _): styled(.italic) { $0.append(linear) }
            case .raw: break
            }
        }
    }

    private mutating func styled(_ style: Style, _ body: (inout RichText) -> Void) {
        let start = text.utf8.count
        body(&self)
        let end = text.utf8.count
        if end > start { spans.append((start, end, style)) }
    }

    /// Links that open something a reader would expect; script schemes and local files are text.
    static func isSafeLink(_ url: String) -> Bool {
        let lower = url.lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("mailto:")
    }
}
