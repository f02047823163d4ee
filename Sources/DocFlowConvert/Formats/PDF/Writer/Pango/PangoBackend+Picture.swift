import CGdkPixbuf
import CPangoCairo
import Foundation

extension PangoBackend {
    func picture(_ dataURL: String) -> PDFPicture? { PDFPicture(dataURL: dataURL) }

    func pixels(_ picture: PDFPicture) -> (width: Int, height: Int) { (picture.width, picture.height) }

    /// Paints the picture scaled into the rectangle; its surface is released (each is drawn once).
    func draw(_ picture: PDFPicture, x: Double, top: Double, width: Double, height: Double) {
        defer { cairo_surface_destroy(picture.surface) }
        cairo_save(cr)
        cairo_translate(cr, x, top)
        cairo_scale(cr, width / Double(picture.width), height / Double(picture.height))
        cairo_set_source_surface(cr, picture.surface, 0, 0)
        cairo_paint(cr)
        cairo_restore(cr)
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
