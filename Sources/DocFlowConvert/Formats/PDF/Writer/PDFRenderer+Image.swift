import CGdkPixbuf
import CPangoCairo
import Foundation

extension PDFRenderer {
    /// Images past this many pixels are not decoded (a small PNG can claim a huge canvas).
    static let maxImagePixels = 40_000_000

    /// Draws an image from a data URL below the cursor: 96 dpi nominal size, scaled down to the
    /// column and to 60 % of the page height. JPEG data is embedded as it is; other formats are
    /// decoded with gdk-pixbuf. An image that cannot be drawn shows its alt text, with a warning.
    func image(_ url: String, alt: String, x: Double, width: Double) {
        guard let picture = PDFPicture(dataURL: url) else {
            context.warn("An image could not be decoded (or is larger than \(Self.maxImagePixels / 1_000_000) megapixels); its alt text is shown.")
            var rich = RichText()
            rich.append(alt.isEmpty ? "[image]" : "[image: \(alt)]")
            let l = layout(rich, font: font(options.bodyFamily, options.bodySize, italic: true), width: width)
            defer { g_object_unref(UnsafeMutableRawPointer(l)) }
            need(height(l))
            cairo_move_to(cr, x, y)
            pango_cairo_show_layout(cr, l)
            y += height(l)
            return
        }
        defer { cairo_surface_destroy(picture.surface) }
        var w = Double(picture.width) * 0.75, h = Double(picture.height) * 0.75
        let scale = min(1, width / w, (bottom - top) * 0.6 / h)
        w *= scale; h *= scale
        need(h + 4)
        cairo_save(cr)
        cairo_translate(cr, x, y + 2)
        cairo_scale(cr, w / Double(picture.width), h / Double(picture.height))
        cairo_set_source_surface(cr, picture.surface, 0, 0)
        cairo_paint(cr)
        cairo_restore(cr)
        y += h + 4
        embedded += 1
    }
}

/// A decoded image as a cairo surface.
struct PDFPicture {
    let surface: OpaquePointer
    let width: Int
    let height: Int

    init?(dataURL: String) {
        guard let bytes = Raster.bytes(dataURL: dataURL), let raster = Raster(bytes) else { return nil }
        let pw = raster.width, ph = raster.height
        guard let s = cairo_image_surface_create(raster.hasAlpha ? CAIRO_FORMAT_ARGB32 : CAIRO_FORMAT_RGB24, Int32(pw), Int32(ph)),
              cairo_surface_status(s) == CAIRO_STATUS_SUCCESS else { return nil }
        cairo_surface_flush(s)
        let out = cairo_image_surface_get_data(s)!, outStride = Int(cairo_image_surface_get_stride(s))
        raster.rgba.withUnsafeBufferPointer { pixels in
            for row in 0..<ph {
                let dst = UnsafeMutableRawPointer(out + row * outStride).assumingMemoryBound(to: UInt32.self)
                for col in 0..<pw {
                    let p = (row * pw + col) * 4
                    let a = UInt32(pixels[p + 3])
                    // cairo wants premultiplied ARGB in native byte order.
                    let r = UInt32(pixels[p]) * a / 255, g = UInt32(pixels[p + 1]) * a / 255, b = UInt32(pixels[p + 2]) * a / 255
                    dst[col] = a << 24 | r << 16 | g << 8 | b
                }
            }
        }
        cairo_surface_mark_dirty(s)
        if bytes.starts(with: [0xFF, 0xD8]) {
            // The PDF carries the JPEG file itself rather than re-compressed pixels.
            let copy = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 1)
            bytes.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            cairo_surface_set_mime_data(s, CAIRO_MIME_TYPE_JPEG, copy.assumingMemoryBound(to: UInt8.self), UInt(bytes.count),
                                        { $0?.deallocate() }, copy)
        }
        surface = s
        width = pw
        height = ph
    }
}

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

    /// Decodes `bytes`, refusing canvases past `PDFRenderer.maxImagePixels` before decoding.
    init?(_ bytes: [UInt8]) {
        guard let (w, h) = Self.dimensions(bytes), w > 0, h > 0, w * h <= PDFRenderer.maxImagePixels else { return nil }
        guard let loader = gdk_pixbuf_loader_new() else { return nil }
        defer { g_object_unref(UnsafeMutableRawPointer(loader)) }
        var error: UnsafeMutablePointer<GError>?
        let wrote = bytes.withUnsafeBufferPointer { gdk_pixbuf_loader_write(loader, $0.baseAddress, gsize($0.count), &error) }
        if let e = error { g_error_free(e); error = nil }
        let closed = gdk_pixbuf_loader_close(loader, &error)
        if let error { g_error_free(error) }
        guard wrote != 0, closed != 0, let pixbuf = gdk_pixbuf_loader_get_pixbuf(loader) else { return nil }
        let pw = Int(gdk_pixbuf_get_width(pixbuf)), ph = Int(gdk_pixbuf_get_height(pixbuf))
        guard pw * ph <= PDFRenderer.maxImagePixels, gdk_pixbuf_get_bits_per_sample(pixbuf) == 8 else { return nil }
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
