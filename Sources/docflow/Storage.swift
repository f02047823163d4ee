import ArgumentParser
import DocFlowCore
import DocFlowS3
import Foundation

/// `docflow storage`: the configured store (`DOCFLOW_STORAGE` and the `DOCFLOW_S3_*` settings, as
/// the services read them) through the same `ObjectStore` they use.
struct StorageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "storage", abstract: "Check or list the configured storage.",
                                                    subcommands: [Check.self, List.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the bucket if needed, then write, read, list and delete one object: exit 0 when the storage works.")
        func run() throws {
            let config = Config()
            do {
                try StorageBackend.prepare(config)
                let store = try StorageBackend.factory(config)()
                let key = "check/\(UUID().uuidString.lowercased()).txt"
                let bytes = Array("doc flow storage check\n".utf8)
                try store.put(key, bytes: bytes)
                defer { try? store.delete(key) }
                guard try store.bytes(key) == bytes, try store.head(key)?.size == Int64(bytes.count),
                      try store.list(prefix: "check/").contains(where: { $0.key == key }) else {
                    throw StorageError("The storage returned something else than was written.", cause: key)
                }
                try store.delete(key)
                guard try store.head(key) == nil else { throw StorageError("A deleted object is still there.", cause: key) }
                print("storage ok: \(config.s3Bucket.map { "s3://\($0) at \(config.s3Endpoint)" } ?? config.storage)")
            } catch let e as StorageError {
                FileHandle.standardError.write(Data("storage check failed: \(e.message) (\(e.cause))\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the objects under a prefix (key, bytes, age in seconds).")
        @Argument(help: "A key prefix such as input/ or output/{client}/.") var prefix = ""
        func run() throws {
            let store = try StorageBackend.factory(Config())()
            for o in try store.list(prefix: prefix) { print("\(o.key)\t\(o.size)\t\(Int(o.age))") }
        }
    }
}
