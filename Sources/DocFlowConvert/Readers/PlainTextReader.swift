import DocFlowModel
import Foundation

/// Plain text: paragraphs are separated by blank lines and keep their line breaks; encodings as
/// for CSV (BOM-marked UTF-8/UTF-16, UTF-8, else Windows-1252 with a warning).
public struct PlainTextReader: Reader {
    public let format = Format.text
    public init() {}

    public func read(_ bytes: [UInt8], context: ConversionContext) throws -> Payload {
        // "\r\n" is one Character in Swift: normalise line ends before splitting on "\n".
        let text = String(decoding: try TextDecoding.utf8(bytes, context: context, what: "text", strayNULs: true), as: UTF8.self)
            .replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var blocks: [Block] = []
        var lines: [Substring] = []
        func endParagraph() {
            guard !lines.isEmpty else { return }
            var inlines: [Inline] = []
            for (i, line) in lines.enumerated() {
                if i > 0 { inlines.append(.lineBreak) }
                inlines.append(.text(String(line)))
            }
            blocks.append(.paragraph(inlines))
            lines.removeAll()
        }
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { endParagraph() } else { lines.append(line) }
        }
        endParagraph()
        var meta = Metadata()
        if case .paragraph(let first)? = blocks.first, case .text(let t)? = first.first {
            meta.title = String(t.trimmingCharacters(in: .whitespaces).prefix(200))
        }
        return .document(Document(metadata: meta, blocks: blocks))
    }
}
