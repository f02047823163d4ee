import DocFlowModel
import Foundation

/// What DOCX, PPTX and XLSX share: the zip package with its limits, relationships between parts,
/// and the core document properties.
struct OfficePackage {
    /// Parts parsed as a whole tree (a Word body, a slide) are bounded tighter than streamed ones.
    static let maxTreePartBytes = 256 << 20
    /// Embedded images carried into HTML and PDF output, all together.
    static let maxImageBytes = 64 << 20

    struct Relationship {
        /// The part's path inside the package, or the URL of an external target.
        var target: String
        var type: String
        var external: Bool
    }

    let zip: ZipArchive
    let what: String

    /// Opens the package; an OLE compound file (an encrypted OOXML file or a legacy .doc / .ppt)
    /// gets its own message rather than "not a zip".
    init(_ bytes: [UInt8], what: String) throws {
        if bytes.starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            throw ConversionError(.malformedInput, "The \(what) file is password-protected (encrypted) or a legacy binary Office file; Doc Flow reads only unencrypted OOXML files.")
        }
        if bytes.isEmpty { throw ConversionError(.malformedInput, "The \(what) file is empty.") }
        zip = try ZipArchive(bytes, what: what)
        self.what = what
    }

    init(zip: ZipArchive, what: String) {
        self.zip = zip
        self.what = what
    }

    /// The main part named by the package relationships (word/document.xml, ppt/presentation.xml…).
    func mainPart(default fallback: String) throws -> String {
        try relationships(of: "").values.first { $0.type.hasSuffix("/officeDocument") && !$0.external }?.target ?? fallback
    }

    /// A part's relationships by id (`_rels/<name>.rels` beside it; "" for the package's own).
    func relationships(of part: String) throws -> [String: Relationship] {
        let base = Self.directory(of: part)
        let name = part.split(separator: "/").last.map(String.init) ?? ""
        let relsPath = (base.isEmpty ? "" : base + "/") + "_rels/" + name + ".rels"
        guard let rels = try zip.open(relsPath) else { return [:] }
        var out: [String: Relationship] = [:]
        let x = try XMLStream(rels)
        while let node = try x.next() {
            if node == .start, x.isNamed("Relationship") {
                let a = x.attributes()
                guard let id = a["Id"], let target = a["Target"] else { continue }
                let external = a["TargetMode"] == "External"
                out[id] = Relationship(target: external ? target : Self.resolve(target, base: base), type: a["Type"] ?? "", external: external)
            }
        }
        return out
    }

    /// A whole part as a tree, bounded; nil when the package has no such part.
    func tree(_ part: String) throws -> XMLTree? {
        guard let bytes = try zip.read(part, limit: Self.maxTreePartBytes) else { return nil }
        return try XMLTree(bytes, part: part, what: what)
    }

    /// Title, author and dates from docProps/core.xml (Dublin Core), as the metadata starts.
    func coreProperties() throws -> Metadata {
        var meta = Metadata()
        let path = try relationships(of: "").values.first { $0.type.hasSuffix("/core-properties") }?.target ?? "docProps/core.xml"
        guard let root = try tree(path)?.root else { return meta }
        for c in root.children {
            let v = c.allText.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !v.isEmpty else { continue }
            switch c.name {
            case "title": meta.title = v
            case "creator": meta.author = v
            case "subject", "description", "keywords", "created", "modified", "lastModifiedBy", "category":
                meta.properties[c.name == "lastModifiedBy" ? "last_modified_by" : c.name] = .text(v)
            default: break
            }
        }
        return meta
    }

    /// A count the application saved in docProps/app.xml (`Pages`, `Slides`, `Words`).
    func appProperty(_ name: String) throws -> Int? {
        guard let root = try tree("docProps/app.xml")?.root else { return nil }
        return root.children.first { $0.name == name }.flatMap { Int($0.text.trimmingCharacters(in: .whitespaces)) }
    }

    static func directory(of part: String) -> String {
        part.split(separator: "/").dropLast().joined(separator: "/")
    }

    /// A relationship target resolved against the directory of its source part.
    static func resolve(_ target: String, base: String) -> String {
        if target.hasPrefix("/") { return String(target.dropFirst()) }
        var parts = base.isEmpty ? [] : base.split(separator: "/").map(String.init)
        for p in target.split(separator: "/") {
            if p == ".." { _ = parts.popLast() } else if p != "." { parts.append(String(p)) }
        }
        return parts.joined(separator: "/")
    }
}
