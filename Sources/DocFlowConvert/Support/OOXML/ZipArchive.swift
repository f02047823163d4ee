import CLibZip
import DocFlowCore
import DocFlowModel

/// A zip archive in memory, read with libzip. Every entry is read through a bounded stream: at most
/// `maxEntryBytes` bytes, and no more than `maxRatio` times its compressed size once past
/// `ratioFloor` bytes — whatever the (forgeable) central directory claims — so a zip bomb stops
/// early with a clear error. (Spreadsheet XML is repetitive: a sheet of a million rows of "0"
/// compresses 264:1, so the ratio bound sits near deflate's ceiling of about 1030:1 and the
/// absolute bound does most of the work.)
final class ZipArchive {
    static let maxEntryBytes = 1 << 30
    static let maxRatio = 800
    static let ratioFloor = 64 << 20
    /// Entries in one package: real documents have dozens to a few thousand.
    static let maxEntries = 50_000
    /// Bytes decompressed from all entries of one package together.
    static let maxTotalBytes = 2 << 30

    private let archive: OpaquePointer
    /// The archive's bytes, pinned for libzip's buffer source for the life of the archive: a
    /// mapped input, whose pages the streams hand back as they go (`InputBytes.release`).
    let input: InputBytes
    let what: String

    convenience init(_ bytes: [UInt8], what: String) throws {
        try self.init(InputBytes(bytes), what: what)
    }

    init(_ input: InputBytes, what: String) throws {
        self.what = what
        self.input = input
        var err = zip_error_t()
        zip_error_init(&err)
        defer { zip_error_fini(&err) }
        guard let base = input.buffer.baseAddress,
              let src = zip_source_buffer_create(base, zip_uint64_t(input.count), 0, &err) else {
            throw ConversionError(.malformedInput, "The \(what) file could not be opened.")
        }
        guard let za = zip_open_from_source(src, ZIP_RDONLY, &err) else {
            zip_source_free(src)
            throw ConversionError(.malformedInput, "The \(what) file is not a valid zip package (it may be truncated or not really a \(what) file).")
        }
        archive = za
        let entries = zip_get_num_entries(za, 0)
        if entries > Int64(Self.maxEntries) {
            throw ConversionError(.tooLarge, "The \(what) file has \(entries) zip entries (the limit is \(Self.maxEntries)).")
        }
    }

    /// Bytes all streams of this archive have produced so far (bounded by `maxTotalBytes`).
    fileprivate(set) var totalProduced = 0

    deinit {
        zip_discard(archive)
    }

    /// The entry's index, by exact name or, failing that, case-insensitively.
    func locate(_ name: String) -> zip_uint64_t? {
        var i = zip_name_locate(archive, name, 0)
        if i < 0 { i = zip_name_locate(archive, name, zip_flags_t(ZIP_FL_NOCASE)) }
        return i < 0 ? nil : zip_uint64_t(i)
    }

    func open(_ name: String) throws -> ZipEntryStream? {
        guard let index = locate(name) else { return nil }
        var st = zip_stat_t()
        zip_stat_init(&st)
        guard zip_stat_index(archive, index, 0, &st) == 0, let file = zip_fopen_index(archive, index, 0) else {
            throw ConversionError(.malformedInput, "The \(what) part \(name) cannot be read (damaged or encrypted).")
        }
        return ZipEntryStream(file: file, name: name, compressedSize: Int(st.comp_size), what: what, archive: self)
    }

    /// A whole entry, bounded like every stream and by `limit`.
    func read(_ name: String, limit: Int = ZipArchive.maxEntryBytes) throws -> [UInt8]? {
        guard let stream = try open(name) else { return nil }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { stream.read(into: $0) }
            if n < 0 { throw stream.failure ?? ConversionError(.malformedInput, "The \(what) part \(name) is damaged.") }
            if n == 0 { return out }
            out += buf[0..<n]
            if out.count > limit {
                throw ConversionError(.tooLarge, "The \(what) part \(name) is larger than \(limit >> 20) MiB.")
            }
        }
    }
}

/// One entry's decompressed bytes, pulled on demand (libxml2's reader pulls through it).
final class ZipEntryStream {
    private var file: OpaquePointer?
    let name: String
    let compressedSize: Int
    let what: String
    private(set) var produced = 0
    /// Why the stream stopped early, for the caller to throw.
    private(set) var failure: ConversionError?

    private weak var archive: ZipArchive?

    init(file: OpaquePointer, name: String, compressedSize: Int, what: String, archive: ZipArchive? = nil) {
        self.file = file
        self.archive = archive
        self.name = name
        self.compressedSize = compressedSize
        self.what = what
    }

    deinit { close() }

    func close() {
        if let f = file { zip_fclose(f) }
        file = nil
    }

    /// Reads up to `buffer.count` bytes; 0 at the end, -1 on an error or a bound crossed.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let f = file, failure == nil else { return failure == nil ? 0 : -1 }
        let n = zip_fread(f, buffer.baseAddress!, zip_uint64_t(buffer.count))
        if n < 0 {
            failure = ConversionError(.malformedInput, "The \(what) part \(name) is damaged (its compressed data does not decode).")
            return -1
        }
        produced += Int(n)
        if let a = archive {
            // Every 16 MB out, the mapped archive's pages go back; the few still being read are
            // simply read again.
            if a.totalProduced >> 24 != (a.totalProduced + Int(n)) >> 24 { a.input.release(0..<a.input.count) }
            a.totalProduced += Int(n)
            if a.totalProduced > ZipArchive.maxTotalBytes {
                failure = ConversionError(.tooLarge, "The \(what) file expands to more than \(ZipArchive.maxTotalBytes >> 30) GiB in all; it looks like a zip bomb.")
                return -1
            }
        }
        if produced > ZipArchive.maxEntryBytes
            || (produced > ZipArchive.ratioFloor && produced / max(compressedSize, 1) > ZipArchive.maxRatio) {
            failure = ConversionError(.tooLarge, "The \(what) part \(name) expands too far (over \(produced >> 20) MiB from \(compressedSize >> 10) KiB compressed); it looks like a zip bomb.")
            return -1
        }
        return Int(n)
    }
}
