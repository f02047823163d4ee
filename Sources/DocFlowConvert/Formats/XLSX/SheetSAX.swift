import CLibXML2
import Foundation

/// A worksheet parsed with libxml2's SAX2 push parser fed from the bounded zip stream: no node is
/// built per element (the pull reader's cost), only the cells are kept. No entity is substituted and
/// nothing is loaded from outside; an undeclared entity makes the sheet fail as not well-formed.
final class SheetSAX {
    var grid: SheetGrid
    let context: ConversionContext
    var failure: Error?

    private var row: [SheetGrid.Cell] = []
    private var rowUsed = 0
    /// Whether the current row has a <c> element (a blank but present cell counts).
    private var rowHasCell = false
    private var nextColumn = 0
    private var column = 0, type: UInt8 = 0, style = -1
    private var value: [UInt8]? = nil
    private var inline: [UInt8]? = nil
    private var inValue = false, inText = false, inPhonetic = false

    init(grid: SheetGrid, context: ConversionContext) {
        self.grid = grid
        self.context = context
    }

    /// Parses the whole stream into `grid`.
    func parse(_ stream: ZipEntryStream) throws {
        var handler = xmlSAXHandler()
        handler.initialized = XML_SAX2_MAGIC
        handler.startElementNs = { ctx, name, _, _, _, _, nAttributes, _, attributes in
            guard let ctx = ctx, let name = name else { return }
            Unmanaged<SheetSAX>.fromOpaque(ctx).takeUnretainedValue().start(name, Int(nAttributes), attributes)
        }
        handler.endElementNs = { ctx, name, _, _ in
            guard let ctx = ctx, let name = name else { return }
            Unmanaged<SheetSAX>.fromOpaque(ctx).takeUnretainedValue().end(name)
        }
        handler.characters = { ctx, chars, len in
            guard let ctx = ctx, let chars = chars else { return }
            Unmanaged<SheetSAX>.fromOpaque(ctx).takeUnretainedValue().characters(chars, Int(len))
        }
        let me = Unmanaged.passUnretained(self).toOpaque()
        guard let ctxt = xmlCreatePushParserCtxt(&handler, me, nil, 0, stream.name) else {
            throw ConversionError(.internal, "The XML parser could not be created.")
        }
        defer { xmlFreeParserCtxt(ctxt) }
        xmlCtxtUseOptions(ctxt, Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue))
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while failure == nil {
            let n = buf.withUnsafeMutableBytes { stream.read(into: $0) }
            if n < 0 { throw stream.failure ?? ConversionError(.malformedInput, "The Excel part \(stream.name) is damaged.") }
            let rc = buf.withUnsafeBufferPointer { b in
                b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: n) { xmlParseChunk(ctxt, $0, Int32(n), n == 0 ? 1 : 0) }
            }
            if let failure { throw failure }
            if rc != 0 || ctxt.pointee.wellFormed == 0 {
                throw ConversionError(.malformedInput, "The Excel part \(stream.name) is not well-formed XML.")
            }
            if n == 0 { break }
        }
        if let failure { throw failure }
    }

    private func stop(_ error: Error) {
        if failure == nil { failure = error }
    }

    @inline(__always)
    private static func named(_ p: UnsafePointer<xmlChar>, _ s: StaticString) -> Bool {
        strcmp(UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self), UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)) == 0
    }

    private func start(_ name: UnsafePointer<xmlChar>, _ n: Int, _ attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) {
        guard failure == nil else { return }
        switch name[0] {
        case 0x63 where name[1] == 0:  // c
            (column, type, style) = (nextColumn, 0, -1)
            value = nil
            inline = nil
            if let a = attributes { cellAttributes(n, a) }
        case 0x76 where name[1] == 0:  // v
            inValue = true
            value = []
        case 0x74 where name[1] == 0:  // t (inside <is>)
            inText = inline != nil && !inPhonetic
        default:
            if Self.named(name, "row") {
                row.removeAll(keepingCapacity: true)
                rowUsed = 0
                rowHasCell = false
                nextColumn = 0
            } else if Self.named(name, "is") {
                inline = []
            } else if Self.named(name, "rPh") {
                inPhonetic = true
            } else if Self.named(name, "mergeCell") {
                grid.merged += 1
            }
        }
    }

    /// `r` (letters → column), `t` (its first letter; `S` for str, `I` for inlineStr) and `s`.
    private func cellAttributes(_ n: Int, _ a: UnsafeMutablePointer<UnsafePointer<xmlChar>?>) {
        for k in 0..<n {
            guard let local = a[5 * k], local[1] == 0, let v = a[5 * k + 3], let e = a[5 * k + 4] else { continue }
            let len = e - v
            switch local[0] {
            case 0x72:
                var c = 0, letters = 0
                while letters < len && letters <= 3 {
                    let u = v[letters] | 0x20
                    guard u >= 0x61 && u <= 0x7A else { break }
                    c = c * 26 + Int(u - 0x60)
                    letters += 1
                }
                if letters > 0 && letters <= 3 { column = c - 1 }
            case 0x74:
                guard len > 0 else { continue }
                type = v[0] == 0x69 ? 0x49 : v[0]
                if v[0] == 0x73 && len > 1 && v[1] == 0x74 { type = 0x53 }
            case 0x73:
                var x = 0, i = 0
                while i < len && i < 9 && v[i] >= 0x30 && v[i] <= 0x39 { x = x * 10 + Int(v[i] - 0x30); i += 1 }
                style = i > 0 ? x : -1
            default: break
            }
        }
    }

    private func characters(_ chars: UnsafePointer<xmlChar>, _ len: Int) {
        if inValue { value!.append(contentsOf: UnsafeBufferPointer(start: chars, count: len)) } else if inText {
            inline!.append(contentsOf: UnsafeBufferPointer(start: chars, count: len))
        }
    }

    private func end(_ name: UnsafePointer<xmlChar>) {
        guard failure == nil else { return }
        switch name[0] {
        case 0x76 where name[1] == 0: inValue = false
        case 0x74 where name[1] == 0: inText = false
        case 0x63 where name[1] == 0:
            do {
                let cell = try grid.cell(type: type, style: style, value: value.map { String(decoding: $0, as: UTF8.self) },
                                         inline: inline.map { String(decoding: $0, as: UTF8.self) })
                nextColumn = column + 1
                rowHasCell = true
                try grid.place(cell, at: column, in: &row, used: &rowUsed)
            } catch { stop(error) }
        default:
            if Self.named(name, "row") {
                do { try grid.finish(row, used: rowUsed, hasCell: rowHasCell, context: context) } catch { stop(error) }
            } else if Self.named(name, "rPh") {
                inPhonetic = false
            }
        }
    }
}
