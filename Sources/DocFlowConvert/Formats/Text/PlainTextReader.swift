import DocFlowModel
import Foundation

/// Plain text: paragraphs are separated by blank lines and keep their line breaks; encodings as
/// for CSV (BOM-marked UTF-8/UTF-16, UTF-8, else the encoding detected, with a warning).
public struct PlainTextReader: Reader {
    public let format = Format.text
    public init() {}

    public func read(_ bytes: [UInt8], context: ConversionContext) throws -> Payload {
        let utf8 = try TextDecoding.utf8(bytes, context: context, what: "text", strayNULs: true)
        var blocks: [Block] = []
        var lines: [String] = []
        func endParagraph() {
            guard !lines.isEmpty else { return }
            var inlines: [Inline] = []
            inlines.reserveCapacity(lines.count * 2)
            for (i, line) in lines.enumerated() {
                if i > 0 { inlines.append(.lineBreak) }
                inlines.append(.text(line))
            }
            blocks.append(.paragraph(inlines))
            lines.removeAll(keepingCapacity: true)
        }
        // Lines end at LF, CRLF or a lone CR; a line of only spaces and tabs ends a paragraph.
        utf8.withUnsafeBufferPointer { buf in
            var start = 0, i = 0, blank = true
            func line(_ end: Int) {
                if blank { endParagraph() } else { lines.append(String(decoding: UnsafeBufferPointer(rebasing: buf[start..<end]), as: UTF8.self)) }
            }
            while i < buf.count {
                let b = buf[i]
                if b == 0x0A || b == 0x0D {
                    line(i)
                    i += (b == 0x0D && i + 1 < buf.count && buf[i + 1] == 0x0A) ? 2 : 1
                    start = i
                    blank = true
                } else {
                    if b != 0x20 && b != 0x09 { blank = false }
                    i += 1
                }
            }
            if start < buf.count { line(buf.count) }
        }
        endParagraph()
        var meta = Metadata()
        if case .paragraph(let first)? = blocks.first, case .text(let t)? = first.first {
            meta.title = String(t.trimmingCharacters(in: .whitespaces).prefix(200))
        }
        return .document(Document(metadata: meta, blocks: blocks))
    }
}
