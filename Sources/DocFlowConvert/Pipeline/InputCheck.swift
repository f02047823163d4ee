import CCompression
import DocFlowCore
import DocFlowModel

/// What an input really is, looked at before its reader: a gzip file is inflated (within the zip
/// reader's size and ratio limits) and its content read as the declared format; an encrypted or
/// legacy binary Office file (an OLE2 compound file) and an OpenDocument file are refused with a
/// message that names them, instead of a reader's "not a valid zip package".
enum InputCheck {
    static let gzipMagic: [UInt8] = [0x1F, 0x8B]
    static let ole2Magic: [UInt8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]

    static func prepare(_ input: ConversionInput, from: Format, context: ConversionContext) throws -> ConversionInput {
        let mapped = try input.mapped()
        let head = Array(mapped.buffer.prefix(4096))
        if head.starts(with: gzipMagic) && from.id != Format.parquet.id {
            let inner = try gunzip(mapped.buffer)
            context.report("compression", .text("gzip"))
            return try prepare(.bytes(inner), from: from, context: context)
        }
        if head.starts(with: ole2Magic) {
            // The compound file's directory names its streams in UTF-16LE.
            let encrypted = Array("EncryptedPackage".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
            if contains(mapped.buffer, encrypted) {
                throw ConversionError(.unsupportedConversion, "The file is encrypted (a password-protected Office document); Doc Flow cannot open it. Remove the password and convert it again.")
            }
            throw ConversionError(.unsupportedConversion, "The file is a legacy binary Office file (.xls, .doc or .ppt); Doc Flow reads .xlsx, .docx and .pptx. Save it in that format and convert it again.")
        }
        // OpenDocument puts an uncompressed `mimetype` entry first: its text follows the name.
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]), head.count > 38, head[30..<38].elementsEqual("mimetype".utf8) {
            func le(_ at: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 | Int(head[at + $1]) << (8 * $1) } }
            let start = 38 + le(28, 2), size = le(18, 4)
            let rest = String(decoding: head.dropFirst(start).prefix(min(size, 100)), as: UTF8.self)
            if let r = rest.range(of: "application/vnd.oasis.opendocument.") {
                let kind = rest[r.upperBound...]
                throw ConversionError(.unsupportedConversion, "The file is an OpenDocument file (\(kind)); Doc Flow reads .xlsx, .docx and .pptx. Save it in that format and convert it again.")
            }
        }
        return input
    }

    private static func contains(_ hay: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, hay.count >= needle.count else { return false }
        var i = 0
        while i <= hay.count - needle.count {
            if hay[i] == first && needle.indices.allSatisfy({ hay[i + $0] == needle[$0] }) { return true }
            i += 1
        }
        return false
    }

    /// Inflates every gzip member of `input` (`inflate` with gzip headers), stopping with a
    /// `tooLarge` error where the zip reader would: past 1 GiB, or past 64 MiB at over 800:1.
    static func gunzip(_ input: UnsafeBufferPointer<UInt8>) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ConversionError(.internal, "zlib could not be set up.")
        }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
        stream.avail_in = uInt(input.count)
        while true {
            let (rc, produced) = chunk.withUnsafeMutableBufferPointer { c -> (Int32, Int) in
                stream.next_out = c.baseAddress
                stream.avail_out = uInt(c.count)
                let rc = inflate(&stream, Z_NO_FLUSH)
                return (rc, c.count - Int(stream.avail_out))
            }
            out.append(contentsOf: chunk[0..<produced])
            if out.count > ZipArchive.maxEntryBytes
                || (out.count > ZipArchive.ratioFloor && out.count / max(input.count, 1) > ZipArchive.maxRatio) {
                throw ConversionError(.tooLarge, "The gzip file expands too far (over \(out.count >> 20) MiB from \(input.count >> 10) KiB); it looks like a gzip bomb.")
            }
            if rc == Z_STREAM_END {
                if stream.avail_in == 0 { return out }
                guard inflateReset(&stream) == Z_OK else { break }  // the next member
                continue
            }
            guard rc == Z_OK || (rc == Z_BUF_ERROR && produced > 0) else { break }
        }
        throw ConversionError(.malformedInput, "The gzip file is damaged or truncated (it does not inflate to its end).")
    }
}
