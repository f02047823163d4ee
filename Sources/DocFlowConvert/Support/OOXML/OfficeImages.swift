import DocFlowModel
import Foundation

/// Images of DOCX and PPTX parts: each becomes an image inline whose URL is a data URL (PNG, JPEG,
/// GIF, WebP) that HTML and PDF output embed, within `OfficePackage.maxImageBytes` for the whole
/// document; other formats (EMF, WMF, TIFF) and images past the budget keep only their alt text,
/// with a warning. Linked (external) images keep their web address.
final class OfficeImages {
    let package: OfficePackage
    let context: ConversionContext
    private(set) var count = 0
    private var bytes = 0
    private var cache: [String: String] = [:]

    init(package: OfficePackage, context: ConversionContext) {
        self.package = package
        self.context = context
    }

    static let mimeTypes = ["png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"]

    /// The images below a drawing, picture or shape node.
    func images(in node: XMLTreeNode, rels: [String: OfficePackage.Relationship]) -> [Inline] {
        var out: [Inline] = []
        var blips: [XMLTreeNode] = []
        node.descendants("blip", into: &blips)
        node.descendants("imagedata", into: &blips)
        guard !blips.isEmpty else { return out }
        let alt = (node.descendant("docPr") ?? node.descendant("cNvPr")).flatMap { $0.attr("descr") ?? $0.attr("title") } ?? ""
        for blip in blips {
            guard let id = blip.attr("embed") ?? blip.attr("link") ?? blip.attr("id"), let rel = rels[id] else { continue }
            count += 1
            let altInlines: [Inline] = alt.isEmpty ? [] : [.text(alt)]
            if rel.external {
                let lower = rel.target.lowercased()
                if lower.hasPrefix("http://") || lower.hasPrefix("https://") { out.append(.image(url: rel.target, title: nil, alt: altInlines)) }
                continue
            }
            if let url = dataURL(rel.target) {
                out.append(.image(url: url, title: nil, alt: altInlines))
            } else if !alt.isEmpty {
                out.append(.text(alt))
            }
        }
        return out
    }

    private func dataURL(_ part: String) -> String? {
        if let hit = cache[part] { return hit }
        let ext = part.split(separator: ".").last.map { $0.lowercased() } ?? ""
        guard let mime = Self.mimeTypes[ext] else {
            context.warn("Images in \(ext.uppercased()) format are not carried over (their alt text is).")
            return nil
        }
        let budget = OfficePackage.maxImageBytes - bytes
        guard budget > 0, let data = try? package.zip.read(part, limit: budget) else {
            context.warn("Images past \(OfficePackage.maxImageBytes >> 20) MiB in all, or damaged ones, are left out (their alt text is kept).")
            return nil
        }
        bytes += data.count
        let url = "data:\(mime);base64," + Data(data).base64EncodedString()
        cache[part] = url
        return url
    }
}
