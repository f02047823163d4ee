import DocFlowCore
import DocFlowCrypto
import DocFlowStore
import Foundation

/// Writes an upload to a temporary file while hashing it (SHA-256) and keeping its first bytes
/// for content sniffing. Refuses to grow past `limit`. Removes its file unless `keep()` is called.
final class UploadSink {
    let path: String
    let limit: Int64
    private(set) var size: Int64 = 0
    private(set) var head: [UInt8] = []
    private let hasher = SHA256Hasher()
    private var fd: Int32
    private var kept = false

    init(path: String, limit: Int64) throws {
        self.path = path
        self.limit = limit
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StorageError("The upload could not be stored.", cause: "open \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
        if !kept { unlink(path) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        size += Int64(bytes.count)
        if size > limit {
            throw APIError(413, "too_large", "The file is larger than the \(limit / 1_048_576) MB upload limit.", extra: ["limit": limit])
        }
        if head.count < 65536 { head.append(contentsOf: bytes.prefix(65536 - head.count)) }
        hasher.update(bytes)
        guard Storage.writeAll(fd, bytes) else {
            throw StorageError("The upload could not be stored.", cause: "write: \(String(cString: strerror(errno)))")
        }
    }

    /// Closes the file and returns its SHA-256.
    func finish() throws -> String {
        if fsync(fd) != 0 || close(fd) != 0 {
            fd = -1
            throw StorageError("The upload could not be stored.", cause: "close: \(String(cString: strerror(errno)))")
        }
        fd = -1
        return hasher.finalizeHex()
    }

    /// The file now belongs to someone else (it was renamed into place).
    func keep() { kept = true }
}
