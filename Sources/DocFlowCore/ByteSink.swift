#if canImport(Glibc)
import Glibc
#endif

/// Where a conversion's output goes, part by part as the writer makes it.
public protocol ByteSink: AnyObject {
    /// Appends `part`; throws `SinkError` when it cannot be stored (perhaps for an earlier part).
    func write(_ part: [UInt8]) throws
    /// Waits until every part is stored; throws the first failure. Call it before the output is
    /// closed, also after a failed conversion.
    func finish() throws
    /// Bytes written so far.
    var count: Int { get }
}

extension ByteSink {
    public func finish() throws {}
}

/// The output could not be stored (a full disk, a closed pipe): not the input's fault.
public struct SinkError: Error, CustomStringConvertible {
    public let errno: Int32
    public init(errno: Int32) { self.errno = errno }
    public var description: String { "the output could not be written (errno \(errno))" }
}

/// Output kept in memory, part by part (tests, small results).
public final class MemorySink: ByteSink {
    public private(set) var parts: [[UInt8]] = []
    public private(set) var count = 0
    public init() {}
    public func write(_ part: [UInt8]) throws {
        guard !part.isEmpty else { return }
        parts.append(part)
        count += part.count
    }
}

/// Output written to a file descriptor as it comes (`write`, retried on EINTR and short writes).
/// (Writing from a thread of its own, to overlap the kernel's copy into the page cache — a fifth
/// of a CSV → JSON profile — with the next batch, measured no faster on two cores: CSV → JSON
/// even, JSON → CSV 10 % slower, perf stat -r 8, twice.)
public final class FileSink: ByteSink {
    public let fd: Int32
    public private(set) var count = 0
    public init(fd: Int32) { self.fd = fd }
    public func write(_ part: [UInt8]) throws {
        guard part.withUnsafeBytes({ Self.writeAll(fd, $0) }) else { throw SinkError(errno: errno) }
        count += part.count
    }

    /// Writes every byte to a file descriptor (`write`, retried on EINTR and short writes);
    /// false on an error, with errno set (ENOSPC when `write` wrote nothing).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 && errno == EINTR { continue }
            if n == 0 { errno = ENOSPC }
            if n <= 0 { return false }
            off += n
        }
        return true
    }
}
