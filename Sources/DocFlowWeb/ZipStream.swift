import CLibZ
import Foundation

/// A ZIP archive (APPNOTE 6.3.10) written front to back to a `BodyWriter`, entry by entry, each
/// read from a file descriptor in 64 KiB pieces: nothing is held in memory but one piece. Entries
/// are stored (the outputs are mostly compressed formats already: PDF, XLSX, Parquet, DOCX); each
/// file is read twice — once for its CRC-32 (zlib's `crc32`), once to send it — so every local
/// header carries its CRC and sizes and no data descriptor is needed (readers that do not use the
/// central directory, Java's ZipInputStream among them, can read it too). Names are UTF-8 (flag
/// bit 11). No ZIP64: callers keep archives under 4 GiB (a client's quota is far below).
struct ZipStream {
    let out: BodyWriter
    private var offset: UInt64 = 0
    private var central: [UInt8] = []
    private var count = 0
    /// DOS date and time of every entry (the archive's moment).
    private let dosTime: UInt16, dosDate: UInt16

    init(out: BodyWriter, date: Date = Date()) {
        self.out = out
        var t = time_t(date.timeIntervalSince1970)
        var tm = tm()
        gmtime_r(&t, &tm)
        dosTime = UInt16(tm.tm_hour) << 11 | UInt16(tm.tm_min) << 5 | UInt16(tm.tm_sec / 2)
        dosDate = UInt16(max(0, tm.tm_year - 80)) << 9 | UInt16(tm.tm_mon + 1) << 5 | UInt16(tm.tm_mday)
    }

    struct TooLarge: Error {}

    /// Adds the file open at `fd` (read from offset 0 with pread) as `name`.
    mutating func add(name: String, fd: Int32) throws {
        let (crc, size) = try Self.crc32(fd)
        guard offset + size + 65_536 < UInt64(UInt32.max) else { throw TooLarge() }
        let nameBytes = Array(name.utf8)
        var local: [UInt8] = []
        local.le32(0x0403_4B50)
        local.le16(20)            // version needed: 2.0
        local.le16(1 << 11)       // UTF-8 names
        local.le16(0)             // stored
        local.le16(dosTime); local.le16(dosDate)
        local.le32(crc); local.le32(UInt32(size)); local.le32(UInt32(size))
        local.le16(UInt16(nameBytes.count)); local.le16(0)
        local += nameBytes
        let headerOffset = offset
        try send(local)
        offset += UInt64(local.count)
        try Self.copy(fd, size: size, to: out)
        offset += size

        central.le32(0x0201_4B50)
        central.le16(3 << 8 | 20)  // made by: Unix, 2.0
        central.le16(20); central.le16(1 << 11); central.le16(0)
        central.le16(dosTime); central.le16(dosDate)
        central.le32(crc); central.le32(UInt32(size)); central.le32(UInt32(size))
        central.le16(UInt16(nameBytes.count)); central.le16(0); central.le16(0)
        central.le16(0); central.le16(0)
        central.le32(UInt32(0o100644) << 16)  // a regular file, rw-r--r--
        central.le32(UInt32(headerOffset))
        central += nameBytes
        count += 1
    }

    /// Writes the central directory and its end record.
    mutating func finish() throws {
        var end: [UInt8] = []
        end.le32(0x0605_4B50)
        end.le16(0); end.le16(0)
        end.le16(UInt16(count)); end.le16(UInt16(count))
        end.le32(UInt32(central.count)); end.le32(UInt32(offset))
        end.le16(0)
        try send(central + end)
        offset += UInt64(central.count + end.count)
    }

    private func send(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try out.write($0) } }

    /// CRC-32 and size of a whole file, read with pread from its start.
    static func crc32(_ fd: Int32) throws -> (UInt32, UInt64) {
        var crc = CLibZ.crc32(0, nil, 0)
        var size: UInt64 = 0
        try read(fd) { piece in
            crc = CLibZ.crc32(crc, piece.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(piece.count))
            size += UInt64(piece.count)
        }
        return (UInt32(crc), size)
    }

    /// Sends the file's first `size` bytes (what the CRC covered: a file that grew meanwhile is cut
    /// to it, one that shrank fails the archive).
    static func copy(_ fd: Int32, size: UInt64, to out: BodyWriter) throws {
        var sent: UInt64 = 0
        try read(fd, limit: size) { piece in
            try out.write(piece)
            sent += UInt64(piece.count)
        }
        guard sent == size else { throw CocoaError(.fileReadCorruptFile) }
    }

    private static func read(_ fd: Int32, limit: UInt64 = .max, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var at: UInt64 = 0
        while at < limit {
            let want = Int(min(UInt64(buffer.count), limit - at))
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(at)) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw CocoaError(.fileReadUnknown) }
            if n == 0 { break }
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            at += UInt64(n)
        }
    }
}

private extension Array where Element == UInt8 {
    mutating func le16(_ v: UInt16) { append(UInt8(v & 0xFF)); append(UInt8(v >> 8)) }
    mutating func le32(_ v: UInt32) { for i in 0..<4 { append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }
}
