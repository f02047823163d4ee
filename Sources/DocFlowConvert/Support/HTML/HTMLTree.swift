import CLibXML2
import DocFlowModel

/// HTML parsed with libxml2's HTML parser (`htmlReadMemory`): broken real-world markup is
/// repaired (RECOVER), the network is never touched (NONET), the `<meta charset>` is honoured,
/// errors stay quiet. The tree is then mapped onto the document model (`HTMLTreeWalker`). The
/// HTML reader reads files with it, the Markdown reader the raw HTML blocks of a Markdown file.
enum HTMLTree {
    /// The blocks of `bytes` (a page or a fragment) and the page's `<title>`. `encoding` nil: from
    /// the page's `<meta charset>` (a fragment from a Markdown file says "UTF-8").
    static func read(_ bytes: [UInt8], encoding: String? = nil, context: ConversionContext) throws -> (blocks: [Block], title: String?) {
        guard !bytes.isEmpty else { throw ConversionError(.malformedInput, "The HTML file is empty.") }
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NONET.rawValue | HTML_PARSE_NOERROR.rawValue
                            | HTML_PARSE_NOWARNING.rawValue | HTML_PARSE_COMPACT.rawValue)
        xmlResetLastError()
        let doc: htmlDocPtr? = bytes.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                htmlReadMemory($0, Int32(buf.count), nil, encoding, options)
            }
        }
        // libxml2 stops reading at 256 levels of nesting ("Excessive depth in document") and keeps
        // what it had: what was deeper, and everything after it, is said to be lost, not lost silently.
        // (The error is this thread's last one: libxml2 keeps it per thread.)
        if let e = xmlGetLastError(), let m = e.pointee.message, String(cString: m).contains("Excessive depth") {
            context.warn("The HTML nests elements more than 256 levels deep: what lies deeper, and everything after it, was not read.")
        }
        guard let doc else { throw ConversionError(.malformedInput, "The HTML file could not be parsed.") }
        defer { xmlFreeDoc(doc) }
        guard let root = xmlDocGetRootElement(doc) else {
            throw ConversionError(.malformedInput, "The HTML file has no content.")
        }
        var walker = HTMLTreeWalker(context: context)
        let blocks = walker.document(root)
        return (blocks, walker.title)
    }
}

/// Read-only helpers over libxml2 nodes.
enum XMLNode {
    static func name(_ n: xmlNodePtr) -> String {
        n.pointee.name.map { String(cString: $0).lowercased() } ?? ""
    }

    static func children(_ n: xmlNodePtr) -> [xmlNodePtr] {
        var out: [xmlNodePtr] = []
        var c = n.pointee.children
        while let node = c { out.append(node); c = node.pointee.next }
        return out
    }

    /// An attribute's value (`xmlGetProp`, freed here).
    static func attribute(_ n: xmlNodePtr, _ name: String) -> String? {
        guard let v = xmlGetProp(n, name) else { return nil }
        defer { CLibXML2_free(v) }
        return String(cString: v)
    }

    static func text(_ n: xmlNodePtr) -> String {
        n.pointee.content.map { String(cString: $0) } ?? ""
    }

    static func isElement(_ n: xmlNodePtr) -> Bool { n.pointee.type == XML_ELEMENT_NODE }
    static func isText(_ n: xmlNodePtr) -> Bool { n.pointee.type == XML_TEXT_NODE || n.pointee.type == XML_CDATA_SECTION_NODE }
}
