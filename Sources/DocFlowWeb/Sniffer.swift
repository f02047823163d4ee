import CLibMagic

/// Content sniffing with libmagic (`magic_buffer`, MIME type only). One per thread: a libmagic
/// handle is not thread-safe. Closed with `magic_close` in `deinit`.
public final class Sniffer {
    private let cookie: magic_t?

    public init() {
        let c = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ELF)
        if let c, magic_load(c, nil) != 0 {
            magic_close(c)
            cookie = nil
        } else {
            cookie = c
        }
    }

    deinit { if let cookie { magic_close(cookie) } }

    /// The MIME type libmagic reports for the first bytes of a file.
    public func mimeType(of head: [UInt8]) -> String {
        guard let cookie else { return "application/octet-stream" }
        return head.withUnsafeBytes { buf in
            magic_buffer(cookie, buf.baseAddress, buf.count).map { String(cString: $0) } ?? "application/octet-stream"
        }
    }
}
