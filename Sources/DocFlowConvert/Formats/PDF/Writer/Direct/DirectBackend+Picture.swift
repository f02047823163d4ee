import DocFlowModel

/// A picture embedded in the file: its image XObject (one per data URL, however often drawn).
struct DirectPicture {
    let name: String
    let id: Int
    let width: Int
    let height: Int
}

/// Pictures from data URLs: JPEG data is embedded as it is (DCTDecode); other formats are decoded
/// with gdk-pixbuf and embedded as compressed RGB with an alpha mask.
extension DirectBackend {
    func pixels(_ picture: DirectPicture) -> (width: Int, height: Int) { (picture.width, picture.height) }

    func draw(_ picture: DirectPicture, x: Double, top: Double, width: Double, height: Double) {
        content.save()
        content.num(width); content.raw("0 0 "); content.num(height); content.num(x); content.num(options.pageHeight - top - height); content.op("cm")
        content.raw("/\(picture.name) "); content.op("Do")
        content.restore()
    }

    func picture(_ url: String) throws -> DirectPicture? {
        if let known = pictures[url] { return known }
        guard let bytes = Raster.bytes(dataURL: url) else { return nil }
        let id = file.reserve()
        let name = "Im\(id)"
        if let (w, h, components) = Raster.jpeg(bytes), components == 1 || components == 3 {
            file.stream(id, "/Type /XObject /Subtype /Image /Width \(w) /Height \(h) /ColorSpace /\(components == 1 ? "DeviceGray" : "DeviceRGB") "
                + "/BitsPerComponent 8 /Filter /DCTDecode", bytes, deflated: false)
            pictures[url] = DirectPicture(name: name, id: id, width: w, height: h)
            return pictures[url]
        }
        guard let raster = Raster(bytes) else { return nil }
        let count = raster.width * raster.height
        var rgb = [UInt8](repeating: 0, count: count * 3)
        var alpha = [UInt8](repeating: 0, count: raster.hasAlpha ? count : 0)
        for p in 0..<count {
            rgb[3 * p] = raster.rgba[4 * p]; rgb[3 * p + 1] = raster.rgba[4 * p + 1]; rgb[3 * p + 2] = raster.rgba[4 * p + 2]
            if raster.hasAlpha { alpha[p] = raster.rgba[4 * p + 3] }
        }
        var mask = ""
        if raster.hasAlpha {
            let maskID = file.reserve()
            file.stream(maskID, "/Type /XObject /Subtype /Image /Width \(raster.width) /Height \(raster.height) /ColorSpace /DeviceGray /BitsPerComponent 8",
                        PDFFile.deflate(alpha), deflated: true)
            mask = " /SMask \(maskID) 0 R"
        }
        file.stream(id, "/Type /XObject /Subtype /Image /Width \(raster.width) /Height \(raster.height) /ColorSpace /DeviceRGB /BitsPerComponent 8\(mask)",
                    PDFFile.deflate(rgb), deflated: true)
        pictures[url] = DirectPicture(name: name, id: id, width: raster.width, height: raster.height)
        return pictures[url]
    }
}
