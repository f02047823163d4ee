import CLibXML2
import Foundation

/// libxml2's pull reader over a zip entry: constant memory, no network, no DTD loading and no
/// entity substitution (an entity reference stays a reference and is ignored), so XXE and
/// billion-laughs packages read as if the entities were not there.
final class XMLStream {
    enum Node { case start, end, text, other }

    private let reader: xmlTextReaderPtr
    private let source: ZipEntryStream
    private var retained: Unmanaged<ZipEntryStream>

    init(_ source: ZipEntryStream) throws {
        self.source = source
        retained = Unmanaged.passRetained(source)
        let read: xmlInputReadCallback = { ctx, buf, len in
            guard let ctx = ctx, let buf = buf, len > 0 else { return -1 }
            let s = Unmanaged<ZipEntryStream>.fromOpaque(ctx).takeUnretainedValue()
            return Int32(s.read(into: UnsafeMutableRawBufferPointer(start: buf, count: Int(len))))
        }
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_COMPACT.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        guard let r = xmlReaderForIO(read, nil, retained.toOpaque(), source.name, nil, options) else {
            retained.release()
            throw ConversionError(.internal, "The XML reader could not be created.")
        }
        reader = r
    }

    deinit {
        xmlFreeTextReader(reader)
        retained.release()
    }

    /// The next node, or nil at the end. Throws on malformed XML or a bound the stream crossed.
    func next() throws -> Node? {
        let rc = xmlTextReaderRead(reader)
        if rc == 1 {
            switch xmlTextReaderNodeType(reader) {
            case 1: return .start
            case 15: return .end
            case 3, 4, 13, 14: return .text
            default: return .other
            }
        }
        if let failure = source.failure { throw failure }
        if rc == 0 { return nil }
        throw ConversionError(.malformedInput, "The \(source.what) part \(source.name) is not well-formed XML.")
    }

    /// The current node's local name (namespace prefixes dropped, so Strict OOXML reads alike).
    var name: String {
        guard let p = xmlTextReaderConstLocalName(reader) else { return "" }
        return String(cString: p)
    }

    /// Compares the local name without building a String.
    func isNamed(_ s: StaticString) -> Bool {
        guard let p = xmlTextReaderConstLocalName(reader) else { return false }
        return strcmp(UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self), UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)) == 0
    }

    var isEmptyElement: Bool { xmlTextReaderIsEmptyElement(reader) == 1 }

    var value: String {
        guard let p = xmlTextReaderConstValue(reader) else { return "" }
        return String(cString: p)
    }

    /// The element's attributes by local name.
    func attributes() -> [String: String] {
        var out: [String: String] = [:]
        guard xmlTextReaderMoveToFirstAttribute(reader) == 1 else { return out }
        repeat {
            if let n = xmlTextReaderConstLocalName(reader), let v = xmlTextReaderConstValue(reader) {
                out[String(cString: n)] = String(cString: v)
            }
        } while xmlTextReaderMoveToNextAttribute(reader) == 1
        xmlTextReaderMoveToElement(reader)
        return out
    }

    /// One attribute by its unprefixed name.
    func attribute(_ name: String) -> String? {
        guard let p = xmlTextReaderGetAttribute(reader, name) else { return nil }
        defer { CLibXML2_free(p) }
        return String(cString: p)
    }

    /// The text of the current element up to its end tag (for `<t>` and `<v>`).
    func text() throws -> String {
        if isEmptyElement { return "" }
        var s = ""
        while let node = try next() {
            switch node {
            case .text: s += value
            case .end: return s
            default: continue
            }
        }
        return s
    }
}
