import CGdkPixbuf
import Foundation

/// A decoded picture as 8-bit RGBA rows (gdk-pixbuf decodes PNG, GIF, JPEG and the rest), for
/// both PDF renderers.
struct Raster {
    let width: Int
    let height: Int
    let hasAlpha: Bool
    var rgba: [UInt8]

    static func bytes(dataURL: String) -> [UInt8]? {
        guard let comma = dataURL.firstIndex(of: ","), dataURL[..<comma].hasSuffix(";base64"),
              let data = Data(base64Encoded: String(dataURL[dataURL.index(after: comma)...])) else { return nil }
        return [UInt8](data)
    }

    /// Decodes `bytes`, refusing canvases past `PageDesign.maxImagePixels` before decoding.
    init?(_ bytes: [UInt8]) {
        guard let (w, h) = Self.dimensions(bytes), w > 0, h > 0, w * h <= PageDesign.maxImagePixels else { return nil }
        guard let loader = gdk_pixbuf_loader_new() else { return nil }
        defer { g_object_unref(UnsafeMutableRawPointer(loader)) }
        var error: UnsafeMutablePointer<GError>?
        let wrote = bytes.withUnsafeBufferPointer { gdk_pixbuf_loader_write(loader, $0.baseAddress, gsize($0.count), &error) }
        if let e = error { g_error_free(e); error = nil }
        let closed = gdk_pixbuf_loader_close(loader, &error)
        if let error { g_error_free(error) }
        guard wrote != 0, closed != 0, let pixbuf = gdk_pixbuf_loader_get_pixbuf(loader) else { return nil }
        let pw = Int(gdk_pixbuf_get_width(pixbuf)), ph = Int(gdk_pixbuf_get_height(pixbuf))
        guard pw * ph <= PageDesign.maxImagePixels, gdk_pixbuf_get_bits_per_sample(pixbuf) == 8 else { return nil }
        let channels = Int(gdk_pixbuf_get_n_channels(pixbuf)), stride = Int(gdk_pixbuf_get_rowstride(pixbuf))
        let alpha = gdk_pixbuf_get_has_alpha(pixbuf) != 0
        guard channels >= 3, let pixels = gdk_pixbuf_read_pixels(pixbuf) else { return nil }
        var out = [UInt8](repeating: 255, count: pw * ph * 4)
        for row in 0..<ph {
            let src = pixels + row * stride
            for col in 0..<pw {
                let p = src + col * channels, o = (row * pw + col) * 4
                out[o] = p[0]; out[o + 1] = p[1]; out[o + 2] = p[2]
                if alpha { out[o + 3] = p[3] }
            }
        }
        width = pw
        height = ph
        hasAlpha = alpha
        rgba = out
    }

    /// Width and height from a PNG, JPEG or GIF header, before anything is decoded.
    static func dimensions(_ b: [UInt8]) -> (Int, Int)? {
        func be16(_ i: Int) -> Int { Int(b[i]) << 8 | Int(b[i + 1]) }
        if b.count >= 24, b.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
            return (be16(16) << 16 | be16(18), be16(20) << 16 | be16(22))
        }
        if b.count >= 10, b.starts(with: Array("GIF8".utf8)) {
            return (Int(b[6]) | Int(b[7]) << 8, Int(b[8]) | Int(b[9]) << 8)
        }
        if let (w, h, _) = jpeg(b) { return (w, h) }
        return nil
    }

    /// Width, height and component count from a baseline or progressive JPEG's frame header.
    static func jpeg(_ b: [UInt8]) -> (Int, Int, Int)? {
        guard b.starts(with: [0xFF, 0xD8]) else { return nil }
        func be16(_ i: Int) -> Int { Int(b[i]) << 8 | Int(b[i + 1]) }
        var i = 2
        while i + 9 < b.count {
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }
            if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                return (be16(i + 7), be16(i + 5), Int(b[i + 9]))
            }
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }
            i += 2 + be16(i + 2)
        }
        return nil
    }
}
