import Foundation

/// What a store says of one object.
public struct StoredObject: Equatable, Sendable {
    public let key: String
    public let size: Int64
    /// When the object was written (the janitor leaves young objects alone).
    public let modified: Date?

    public init(key: String, size: Int64, modified: Date? = nil) {
        self.key = key
        self.size = size
        self.modified = modified
    }

    /// Seconds since the object was written (0 when the store did not say).
    public var age: TimeInterval { modified.map { Date().timeIntervalSince($0) } ?? 0 }
}

/// An object being written through a file descriptor (a converter's output): `commit` makes it
/// whole under its key, `discard` leaves nothing. Either closes the descriptor; one of them is
/// called exactly once.
public protocol ObjectWriter: AnyObject {
    var fd: Int32 { get }
    /// Stores what was written; returns its size.
    @discardableResult func commit() throws -> Int64
    func discard()
}

/// Makes the store of one thread (stores keep a connection and are not shared between threads).
public typealias ObjectStoreFactory = @Sendable () throws -> any ObjectStore

/// The one storage interface (issue 12): objects under keys made from UUIDs and whitelisted
/// extensions (`Storage.inputPath`, `Storage.outputPath`), in the local directory (`LocalStore`,
/// the embedded default) or an S3-compatible bucket (`S3Store` in DocFlowS3). Errors are
/// `StorageError`s: `isNotFound` for a missing object, `isTransient` for a store that may answer
/// later. One instance per thread.
public protocol ObjectStore: AnyObject {
    /// Stores `length` bytes read from `fd` (from its current offset) under `key`, whole or not at all.
    func put(_ key: String, fd: Int32, length: Int64) throws
    func put(_ key: String, bytes: [UInt8]) throws
    /// The object's bytes (or `range`, inclusive) handed to `sink` as they are read.
    func get(_ key: String, range: ClosedRange<Int64>?, to sink: (UnsafeRawBufferPointer) throws -> Void) throws
    /// The object's size, or nil when there is none.
    func head(_ key: String) throws -> StoredObject?
    /// Removes an object; a missing one is fine.
    func delete(_ key: String) throws
    /// Every object whose key starts with `prefix`, sorted by key.
    func list(prefix: String) throws -> [StoredObject]
    /// Removes every object under `prefix`; returns how many.
    @discardableResult func deletePrefix(_ prefix: String) throws -> Int

    /// Moves a complete file of this host's work folder into the store under `key`; the file is
    /// gone afterwards, whatever happens.
    func adopt(_ path: String, as key: String) throws
    /// A descriptor to read the object from, at offset 0 (the file itself, or a private copy in
    /// the work folder that is already unlinked); the caller closes it.
    func openForReading(_ key: String) throws -> Int32
    /// A descriptor to write `key` through (`ObjectWriter`).
    func beginWrite(_ key: String) throws -> any ObjectWriter
    /// Removes what an interrupted `beginWrite` of `key` may have left (a crashed runner's part file).
    func discardPartial(_ key: String)
    /// A URL that reads the object without credentials for `expires` seconds, with the response's
    /// type and disposition overridden; nil when the backend's files are served from disk.
    func signedGET(_ key: String, expires: Int, contentType: String?, contentDisposition: String?) -> String?
    /// The fields of a browser POST form that may store exactly `size` bytes under exactly `key`
    /// for `expires` seconds (an S3 POST policy); nil when the backend takes uploads another way.
    func signedPOST(_ key: String, size: Int64, expires: Int, contentType: String) -> [(name: String, value: String)]?
}

extension ObjectStore {
    /// The whole object in memory (small objects and tests).
    public func bytes(_ key: String, range: ClosedRange<Int64>? = nil) throws -> [UInt8] {
        var out: [UInt8] = []
        try get(key, range: range) { out.append(contentsOf: $0) }
        return out
    }
}

/// The local directory as an object store: a key is a path below the root (folders made as
/// needed), written through `AtomicFile` (a `.part` file renamed into place, 0640).
public final class LocalStore: ObjectStore {
    /// The factory of a store on `root` (one directory: every thread may share the same kind).
    public static func factory(root: String) -> ObjectStoreFactory { { LocalStore(root: root) } }

    public let root: String

    public init(root: String) {
        self.root = root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    func path(_ key: String) throws -> String {
        // Keys are made from UUIDs and whitelisted extensions; anything that could leave the root
        // is a programming error, refused rather than followed.
        guard !key.isEmpty, !key.hasPrefix("/"), !key.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == ".." || $0.isEmpty }) else {
            throw StorageError("A file could not be stored.", cause: "invalid key \(key)")
        }
        return "\(root)/\(key)"
    }

    public func put(_ key: String, fd: Int32, length: Int64) throws {
        try AtomicFile.write(to: try path(key)) { sink in
            var left = length
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            while left > 0 {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, Int(left))) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw StorageError("A file could not be stored.", cause: "read: \(n == 0 ? "end of input" : String(cString: strerror(errno)))") }
                try sink.write(n == chunk.count ? chunk : Array(chunk[0..<n]))
                left -= Int64(n)
            }
        }
    }

    public func put(_ key: String, bytes: [UInt8]) throws {
        try AtomicFile.write(to: try path(key)) { try $0.write(bytes) }
    }

    public func get(_ key: String, range: ClosedRange<Int64>?, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = open(try path(key), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw errno == ENOENT ? StorageError.notFound(key) : StorageError("A file could not be read.", cause: "open \(key): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var offset = range?.lowerBound ?? 0
        let end = range.map { $0.upperBound + 1 } ?? Int64.max
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while offset < end {
            let want = Int(min(Int64(chunk.count), end - offset))
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(offset)) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw StorageError("A file could not be read.", cause: "pread \(key): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            try chunk.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            offset += Int64(n)
        }
    }

    public func head(_ key: String) throws -> StoredObject? {
        var st = stat()
        guard stat(try path(key), &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let modified = Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
        return StoredObject(key: key, size: Int64(st.st_size), modified: modified)
    }

    public func delete(_ key: String) throws {
        guard unlink(try path(key)) == 0 || errno == ENOENT else {
            throw StorageError("A file could not be removed.", cause: "unlink \(key): \(String(cString: strerror(errno)))")
        }
    }

    /// Objects under `prefix`: the files below its folder part whose key starts with it (part
    /// files of writes in progress are not objects).
    public func list(prefix: String) throws -> [StoredObject] {
        let folder = prefix.contains("/") ? String(prefix[..<prefix.lastIndex(of: "/")!]) : ""
        let base = folder.isEmpty ? root : "\(root)/\(folder)"
        var out: [StoredObject] = []
        guard let walker = FileManager.default.enumerator(atPath: base) else { return [] }
        while let rel = walker.nextObject() as? String {
            let key = folder.isEmpty ? rel : "\(folder)/\(rel)"
            guard key.hasPrefix(prefix), !key.hasSuffix(".part"), let o = try head(key) else { continue }
            out.append(o)
        }
        return out.sorted { $0.key < $1.key }
    }

    @discardableResult
    public func deletePrefix(_ prefix: String) throws -> Int {
        let objects = try list(prefix: prefix)
        for o in objects { try delete(o.key) }
        return objects.count
    }

    /// `rename` (the work folder of the local backend is below the root: one filesystem).
    public func adopt(_ path: String, as key: String) throws {
        let dest = try self.path(key)
        if rename(path, dest) == 0 { return }
        if errno == ENOENT {  // the client's folder does not exist yet
            try? FileManager.default.createDirectory(atPath: (dest as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if rename(path, dest) == 0 { return }
        }
        let reason = String(cString: strerror(errno))
        unlink(path)
        throw StorageError("A file could not be stored.", cause: "rename to \(key): \(reason)")
    }

    public func openForReading(_ key: String) throws -> Int32 {
        let fd = open(try path(key), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw errno == ENOENT ? StorageError.notFound(key) : StorageError("A file could not be read.", cause: "open \(key): \(String(cString: strerror(errno)))")
        }
        return fd
    }

    /// A part file beside the final name (a rename across folders takes the filesystem-wide rename
    /// lock, which serialised two runners: bench/README.md), renamed into place by `commit`.
    public func beginWrite(_ key: String) throws -> any ObjectWriter {
        let dest = try path(key)
        return PartFileWriter(path: dest, fd: try AtomicFile.openPart(for: dest))
    }

    public func discardPartial(_ key: String) {
        if let p = try? path(key) { AtomicFile.discardPart(for: p) }
    }

    /// Local files are sent by nginx from its internal `/_files/` location instead.
    public func signedGET(_ key: String, expires: Int, contentType: String?, contentDisposition: String?) -> String? { nil }

    /// Local uploads are written by nginx itself (an `auth_request`-guarded location).
    public func signedPOST(_ key: String, size: Int64, expires: Int, contentType: String) -> [(name: String, value: String)]? { nil }
}

/// `LocalStore`'s writer: `{path}.part`, renamed to `path` on commit.
final class PartFileWriter: ObjectWriter {
    let path: String
    let fd: Int32
    private var open = true

    init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    func commit() throws -> Int64 {
        precondition(open, "an object writer is committed or discarded once")
        open = false
        var st = stat()
        let size = fstat(fd, &st) == 0 ? Int64(st.st_size) : 0
        close(fd)
        try AtomicFile.commitPart(for: path)
        return size
    }

    func discard() {
        guard open else { return }
        open = false
        close(fd)
        AtomicFile.discardPart(for: path)
    }

    deinit { discard() }
}
