import DocFlowCore
import Foundation

/// An S3-compatible bucket as the `ObjectStore` (the S3 backend): `S3Client` calls, its errors
/// made `StorageError`s (a 404 is `isNotFound`; no answer or a 5xx is `isTransient`); the store's
/// error code stays in `cause`, credentials are never in either. Files on their way in or out
/// (an upload, a converter's input and output) live in `workDir`, this host's private folder,
/// unlinked as soon as they are open: nothing of them outlives the process.
public final class S3Store: ObjectStore {
    public let client: S3Client
    public let workDir: String

    public init(client: S3Client, workDir: String) {
        self.client = client
        self.workDir = workDir
    }

    private func mapped<T>(_ key: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as S3Error {
            if e.status == 404 { throw StorageError.notFound(key) }
            throw StorageError("The object store refused or failed a request.", cause: "\(e.code) (HTTP \(e.status)) for \(key)",
                               isTransient: e.isTransient)
        }
    }

    public func put(_ key: String, fd: Int32, length: Int64) throws { try mapped(key) { try client.put(key, fd: fd, length: length) } }
    public func put(_ key: String, bytes: [UInt8]) throws { try mapped(key) { try client.put(key, bytes: bytes) } }

    public func get(_ key: String, range: ClosedRange<Int64>?, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try mapped(key) {
            if let range {
                try client.get(key, range: range).withUnsafeBytes { try sink($0) }
            } else {
                try withoutActuallyEscaping(sink) { s in try client.get(key, to: s) }
            }
        }
    }

    public func head(_ key: String) throws -> StoredObject? {
        try mapped(key) { try client.head(key).map { StoredObject(key: $0.key, size: $0.size, modified: $0.modified) } }
    }

    public func delete(_ key: String) throws { try mapped(key) { try client.delete(key) } }

    public func list(prefix: String) throws -> [StoredObject] {
        try mapped(prefix) {
            try client.list(prefix: prefix).map { StoredObject(key: $0.key, size: $0.size, modified: $0.modified) }.sorted { $0.key < $1.key }
        }
    }

    @discardableResult
    public func deletePrefix(_ prefix: String) throws -> Int { try mapped(prefix) { try client.deletePrefix(prefix) } }

    /// Sends the file (streamed; multipart past `S3Client.partSize`), then removes it.
    public func adopt(_ path: String, as key: String) throws {
        defer { unlink(path) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError("A file could not be stored.", cause: "open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try put(key, fd: fd, length: try Self.size(fd))
    }

    /// The object copied into an unlinked file of the work folder (streamed, not held in memory).
    public func openForReading(_ key: String) throws -> Int32 {
        let fd = try scratchFile()
        do {
            try get(key, range: nil) { bytes in
                guard FileSink.writeAll(fd, bytes) else {
                    throw StorageError("A file could not be read.", cause: "write to the work folder: \(String(cString: strerror(errno)))")
                }
            }
            guard lseek(fd, 0, SEEK_SET) == 0 else { throw StorageError("A file could not be read.", cause: "lseek") }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    /// An unlinked file of the work folder, sent under `key` on commit.
    public func beginWrite(_ key: String) throws -> any ObjectWriter { UploadOnCommit(store: self, key: key, fd: try scratchFile()) }

    /// Nothing to remove: an interrupted write left an unlinked file (gone with its process) and
    /// at most an aborted or unfinished multipart upload, which never becomes an object.
    public func discardPartial(_ key: String) {}

    public func signedGET(_ key: String, expires: Int, contentType: String?, contentDisposition: String?) -> String? {
        client.presignedGET(key, expires: expires, contentType: contentType, contentDisposition: contentDisposition)
    }

    public func signedPOST(_ key: String, size: Int64, expires: Int, contentType: String) -> [(name: String, value: String)]? {
        client.presignedPOST(key, size: size, expires: expires, contentType: contentType).fields
    }

    /// A new file in the work folder, already unlinked (mode 0600).
    func scratchFile() throws -> Int32 {
        func make() -> (Int32, [CChar]) {
            var template = Array("\(workDir)/s3-XXXXXX".utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            return (fd, template)
        }
        var (fd, name) = make()
        if fd < 0 && errno == ENOENT {
            try? FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
            (fd, name) = make()
        }
        guard fd >= 0 else {
            throw StorageError("A file could not be stored.", cause: "mkstemp in \(workDir): \(String(cString: strerror(errno)))", isTransient: true)
        }
        name.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        // Not inherited by converters: the runner starts them from this same thread, after this.
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    static func size(_ fd: Int32) throws -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StorageError("A file could not be stored.", cause: "fstat: \(String(cString: strerror(errno)))") }
        return Int64(st.st_size)
    }
}

/// `S3Store`'s writer: the converter writes an unlinked local file; commit sends it.
final class UploadOnCommit: ObjectWriter {
    let store: S3Store
    let key: String
    let fd: Int32
    private var open = true

    init(store: S3Store, key: String, fd: Int32) {
        self.store = store
        self.key = key
        self.fd = fd
    }

    func commit() throws -> Int64 {
        precondition(open, "an object writer is committed or discarded once")
        open = false
        defer { close(fd) }
        let size = try S3Store.size(fd)
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw StorageError("A file could not be stored.", cause: "lseek") }
        try store.put(key, fd: fd, length: size)
        return size
    }

    func discard() {
        guard open else { return }
        open = false
        close(fd)
    }

    deinit { discard() }
}
