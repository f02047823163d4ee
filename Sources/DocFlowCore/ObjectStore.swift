import Foundation

/// What a store says of one object.
public struct StoredObject: Equatable, Sendable {
    public let key: String
    public let size: Int64

    public init(key: String, size: Int64) {
        self.key = key
        self.size = size
    }
}

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
        return StoredObject(key: key, size: Int64(st.st_size))
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
}
