import CLibXML2
import Foundation

/// A whole (bounded) XML part parsed into libxml2's tree, for parts walked as structure — a Word
/// body, a slide. No network, no DTD loading, no entity substitution (an XXE or billion-laughs
/// entity stays an unexpanded reference and is ignored), and libxml2's default nesting limit of
/// 256 levels without XML_PARSE_HUGE.
final class XMLTree {
    private let doc: xmlDocPtr

    init(_ bytes: [UInt8], part: String, what: String) throws {
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue | XML_PARSE_COMPACT.rawValue)
        let parsed = bytes.withUnsafeBufferPointer { b in
            b.baseAddress.flatMap { base in
                base.withMemoryRebound(to: CChar.self, capacity: b.count) { xmlReadMemory($0, Int32(b.count), part, nil, options) }
            }
        }
        guard bytes.count < Int(Int32.max), let parsed else {
            throw ConversionError(.malformedInput, "The \(what) part \(part) is not well-formed XML (or nests deeper than 256 levels).")
        }
        doc = parsed
    }

    deinit { xmlFreeDoc(doc) }

    var root: XMLTreeNode? { xmlDocGetRootElement(doc).map { XMLTreeNode($0, tree: self) } }
}

/// An element of an `XMLTree`, compared by local name (namespace prefixes dropped, so strict and
/// transitional OOXML read alike). A node keeps its tree alive.
struct XMLTreeNode {
    let ptr: xmlNodePtr
    let tree: XMLTree

    init(_ ptr: xmlNodePtr, tree: XMLTree) {
        self.ptr = ptr
        self.tree = tree
    }

    var name: String { ptr.pointee.name.map { String(cString: $0) } ?? "" }

    func `is`(_ s: StaticString) -> Bool {
        guard let n = ptr.pointee.name else { return false }
        return strcmp(UnsafeRawPointer(n).assumingMemoryBound(to: CChar.self), UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)) == 0
    }

    /// Child elements in order.
    var children: XMLChildren { XMLChildren(first: ptr.pointee.children, tree: tree) }

    func child(_ s: StaticString) -> XMLTreeNode? { children.first { $0.is(s) } }

    /// The first descendant element with this local name, depth first.
    func descendant(_ s: StaticString) -> XMLTreeNode? {
        for c in children {
            if c.is(s) { return c }
            if let d = c.descendant(s) { return d }
        }
        return nil
    }

    /// Every descendant element with this local name, in document order.
    func descendants(_ s: StaticString, into out: inout [XMLTreeNode]) {
        for c in children {
            if c.is(s) { out.append(c) } else { c.descendants(s, into: &out) }
        }
    }

    /// An attribute by local name, whatever its namespace prefix.
    func attr(_ s: StaticString) -> String? {
        var a = ptr.pointee.properties
        while let p = a {
            if let n = p.pointee.name,
               strcmp(UnsafeRawPointer(n).assumingMemoryBound(to: CChar.self), UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)) == 0 {
                var out = ""
                var t = p.pointee.children
                while let tn = t {
                    if let c = tn.pointee.content { out += String(cString: c) }
                    t = tn.pointee.next
                }
                return out
            }
            a = p.pointee.next
        }
        return nil
    }

    /// A relationship id (`r:id`, `r:embed`…): an attribute of that local name in a namespace, so
    /// `<p:sldId id="256" r:id="rId2">` gives "rId2".
    func relationshipAttr(_ s: StaticString) -> String? {
        var a = ptr.pointee.properties
        while let p = a {
            if p.pointee.ns != nil, let n = p.pointee.name,
               strcmp(UnsafeRawPointer(n).assumingMemoryBound(to: CChar.self), UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)) == 0,
               let t = p.pointee.children, let c = t.pointee.content {
                return String(cString: c)
            }
            a = p.pointee.next
        }
        return nil
    }

    /// The concatenated text of the element's own text children (for `<w:t>`, `<a:t>`).
    var text: String {
        var out = ""
        var c = ptr.pointee.children
        while let n = c {
            if n.pointee.type == XML_TEXT_NODE || n.pointee.type == XML_CDATA_SECTION_NODE, let s = n.pointee.content {
                out += String(cString: s)
            }
            c = n.pointee.next
        }
        return out
    }

    /// All text below the element, in order (core properties, notes).
    var allText: String {
        var out = text
        for c in children { out += c.allText }
        return out
    }
}

/// Child elements of a node (text, comments and entity references skipped).
struct XMLChildren: Sequence, IteratorProtocol {
    var cursor: xmlNodePtr?
    let tree: XMLTree

    init(first: xmlNodePtr?, tree: XMLTree) {
        cursor = first
        self.tree = tree
    }

    mutating func next() -> XMLTreeNode? {
        while let n = cursor {
            cursor = n.pointee.next
            if n.pointee.type == XML_ELEMENT_NODE { return XMLTreeNode(n, tree: tree) }
        }
        return nil
    }
}
