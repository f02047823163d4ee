import DocFlowCore
import Foundation

/// An S3-compatible bucket as the `ObjectStore` (the S3 backend): `S3Client` calls, its errors
/// made `StorageError`s (a 404 is `isNotFound`; no answer or a 5xx is `isTransient`); the store's
/// error code stays in `cause`, credentials are never in either.
public final class S3Store: ObjectStore {
    public let client: S3Client

    public init(client: S3Client) { self.client = client }

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
        try mapped(key) { try client.head(key).map { StoredObject(key: $0.key, size: $0.size) } }
    }

    public func delete(_ key: String) throws { try mapped(key) { try client.delete(key) } }

    public func list(prefix: String) throws -> [StoredObject] {
        try mapped(prefix) { try client.list(prefix: prefix).map { StoredObject(key: $0.key, size: $0.size) }.sorted { $0.key < $1.key } }
    }

    @discardableResult
    public func deletePrefix(_ prefix: String) throws -> Int { try mapped(prefix) { try client.deletePrefix(prefix) } }
}
