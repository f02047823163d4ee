#if canImport(Glibc)
import Glibc
#endif

/// Whole files read straight into a byte array (`open`, `fstat`, `read`): no `Data` in between,
/// so a 180 MB input is held once, not twice.
public enum FileBytes {
    public static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return read(fd: fd)
    }

    /// The whole file open at `fd` (read from offset 0; the descriptor stays open).
    public static func read(fd: Int32) -> [UInt8]? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        var out = [UInt8](repeating: 0, count: Int(st.st_size))
        var off = 0
        while off < out.count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + off, $0.count - off, off_t(off)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            off += n
        }
        return out
    }
}

/// An input that streaming readers walk through without holding it: a file mapped read-only
/// (`mmap`), whose pages a reader hands back with `release` once it is past them — they leave the
/// process (its resident size stays bounded) and stay in the page cache should they be read again.
/// Bytes already in memory (tests, transcoded text) are held as they are.
public final class InputBytes: @unchecked Sendable {
    public let buffer: UnsafeBufferPointer<UInt8>
    private let mapped: Bool

    /// Maps the file at `path`; nil when it cannot be opened or mapped.
    public convenience init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        self.init(fd: fd)
    }

    /// Maps the file open at `fd` (the descriptor may be closed afterwards; the mapping stays).
    public init?(fd: Int32) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let n = Int(st.st_size)
        if n == 0 {  // nothing to map; a real (empty) buffer all the same
            buffer = UnsafeBufferPointer(start: UnsafeMutablePointer<UInt8>.allocate(capacity: 1), count: 0)
            mapped = false
            return
        }
        guard let p = mmap(nil, n, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else { return nil }
        _ = madvise(p, n, MADV_SEQUENTIAL)
        buffer = UnsafeBufferPointer(start: p.assumingMemoryBound(to: UInt8.self), count: n)
        mapped = true
    }

    /// A copy of `bytes`, released only when this input goes.
    public init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        let p = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        _ = p.initialize(from: bytes)
        buffer = UnsafeBufferPointer(start: p.baseAddress, count: bytes.count)
        mapped = false
    }

    deinit {
        if mapped { munmap(UnsafeMutableRawPointer(mutating: buffer.baseAddress!), buffer.count) }
        else if let base = buffer.baseAddress { base.deallocate() }
    }

    public var count: Int { buffer.count }

    /// The whole input as an array (for readers that do not stream).
    public var array: [UInt8] { Array(buffer) }

    /// Hands back the whole pages inside `range`: a mapped file's pages leave the process (read
    /// again from the page cache if touched later, so this is never wrong, only slower). A no-op
    /// for bytes held in memory.
    public func release(_ range: Range<Int>) {
        guard mapped, let base = buffer.baseAddress else { return }
        let page = 4096
        let lo = (max(range.lowerBound, 0) + page - 1) / page * page
        let hi = range.upperBound >= buffer.count ? buffer.count : min(range.upperBound, buffer.count) / page * page
        guard hi > lo else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + lo), hi - lo, MADV_DONTNEED)
    }
}
