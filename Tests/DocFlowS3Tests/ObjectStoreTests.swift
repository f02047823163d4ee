import DocFlowCore
import DocFlowS3
import Foundation
import Testing

/// The storage interface behaves the same on both backends: one conformance sequence, run on the
/// local directory and on SeaweedFS.
func objectStoreConformance(_ store: ObjectStore, _ p: String) throws {
    let small = Array("id,name\n1,a\n".utf8)
    try store.put(p + "input/c1/j1.csv", bytes: small)
    let head = try #require(try store.head(p + "input/c1/j1.csv"))
    #expect(head.key == p + "input/c1/j1.csv" && head.size == Int64(small.count))
    #expect(abs(head.age) < 120, "modified \(String(describing: head.modified))")
    #expect(try store.bytes(p + "input/c1/j1.csv") == small)
    #expect(try store.bytes(p + "input/c1/j1.csv", range: 3...6) == Array(small[3...6]))
    // Replaced whole by a second put.
    try store.put(p + "input/c1/j1.csv", bytes: [1, 2])
    #expect(try store.bytes(p + "input/c1/j1.csv") == [1, 2])
    // A file streamed in from a descriptor, out through the sink (past 8 MB: S3's multipart upload).
    let big = (0..<(11_000_000)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)").path
    FileManager.default.createFile(atPath: path, contents: Data(big))
    defer { unlink(path) }
    let fd = open(path, O_RDONLY)
    try store.put(p + "output/c1/j1-a1.json", fd: fd, length: Int64(big.count))
    close(fd)
    var back: [UInt8] = []
    try store.get(p + "output/c1/j1-a1.json", range: nil) { back.append(contentsOf: $0) }
    #expect(back == big)
    try store.put(p + "input/c2/j2.csv", bytes: [9])
    #expect(try store.list(prefix: p + "input/").map(\.key) == [p + "input/c1/j1.csv", p + "input/c2/j2.csv"])
    #expect(try store.list(prefix: p + "input/c1/").map(\.size) == [2])
    #expect(try store.list(prefix: p + "input/").allSatisfy { $0.modified != nil && abs($0.age) < 120 })
    // A finished file of the work folder moved in; gone from the folder either way.
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("work-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }
    FileManager.default.createFile(atPath: work + "/up.part", contents: Data(small))
    try store.adopt(work + "/up.part", as: p + "input/c3/j3.csv")
    #expect(!FileManager.default.fileExists(atPath: work + "/up.part"))
    #expect(try store.bytes(p + "input/c3/j3.csv") == small)
    // Read through a descriptor, from its start.
    let rfd = try store.openForReading(p + "output/c1/j1-a1.json")
    var first = [UInt8](repeating: 0, count: 4)
    #expect(read(rfd, &first, 4) == 4 && first == Array(big[0..<4]))
    close(rfd)
    #expect(throws: StorageError.self) { _ = try store.openForReading(p + "input/c9/none.csv") }
    // Written through a descriptor: nothing under the key until commit; nothing after discard.
    let w = try store.beginWrite(p + "output/c3/j3-a1.html")
    #expect(write(w.fd, "<p>hi</p>", 9) == 9)
    #expect(try store.head(p + "output/c3/j3-a1.html") == nil)
    #expect(try w.commit() == 9)
    #expect(try store.bytes(p + "output/c3/j3-a1.html") == Array("<p>hi</p>".utf8))
    let dropped = try store.beginWrite(p + "output/c3/j3-a2.html")
    _ = write(dropped.fd, "x", 1)
    dropped.discard()
    store.discardPartial(p + "output/c3/j3-a2.html")
    #expect(try store.head(p + "output/c3/j3-a2.html") == nil)
    #expect(try store.deletePrefix(p + "input/c3/") == 1 && store.deletePrefix(p + "output/c3/") == 1)
    #expect(try store.list(prefix: p + "nothing/").isEmpty)
    do {
        _ = try store.bytes(p + "input/c9/none.csv")
        Issue.record("a missing object was read")
    } catch let e as StorageError {
        #expect(e.isNotFound, "\(String(reflecting: e))")
    }
    try store.delete(p + "input/c9/none.csv")  // missing: fine
    #expect(try store.deletePrefix(p + "input/c1/") == 1)
    #expect(try store.head(p + "input/c1/j1.csv") == nil)
    #expect(try store.deletePrefix(p) == 2)
    #expect(try store.list(prefix: p).isEmpty)
}

@Suite struct LocalStoreTests {
    @Test func behavesAsTheInterfaceSays() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("local-store-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = LocalStore(root: root)
        try objectStoreConformance(store, "t/")
        for bad in ["../x", "/etc/passwd", "a//b", "a/../../b", ""] {
            #expect(throws: StorageError.self, "\(bad)") { try store.put(bad, bytes: [1]) }
        }
        // A write in progress (its .part) is not an object.
        try FileManager.default.createDirectory(atPath: root + "/input/c", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: root + "/input/c/x.csv.part", contents: Data([1]))
        #expect(try store.list(prefix: "input/").isEmpty)
    }
}

@Suite(.enabled(if: ProcessInfo.processInfo.environment["DOCFLOW_TEST_S3_ENDPOINT"] != nil, "needs DOCFLOW_TEST_S3_ENDPOINT (scripts/test sets it)"))
struct S3StoreTests {
    @Test func behavesAsTheInterfaceSays() throws {
        let env = ProcessInfo.processInfo.environment
        let signer = SigV4(credentials: AWSCredentials(accessKeyID: env["DOCFLOW_TEST_S3_ACCESS_KEY"]!, secretAccessKey: env["DOCFLOW_TEST_S3_SECRET_KEY"]!),
                           region: "us-east-1", service: "s3")
        let client = S3Client(endpoint: env["DOCFLOW_TEST_S3_ENDPOINT"]!, bucket: "docflow-tests", signer: signer)
        try client.createBucket()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("s3-work-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        try objectStoreConformance(S3Store(client: client, workDir: work), "store-\(UUID().uuidString.lowercased())/")
        // Its private files were unlinked as soon as they were made.
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: work)) ?? []).isEmpty)
        // The store unreachable: a transient error.
        let down = S3Store(client: S3Client(endpoint: "http://127.0.0.1:9", bucket: "docflow-tests", signer: signer), workDir: work)
        do {
            _ = try down.head("x")
            Issue.record("an unreachable store answered")
        } catch let e as StorageError {
            #expect(e.isTransient && !e.isNotFound)
        }
    }
}

@Suite struct StorageBackendTests {
    func config(_ env: [String: String]) -> Config { Config(environment: env) }

    @Test func aDirectoryIsTheLocalBackend() throws {
        let store = try StorageBackend.factory(config(["DOCFLOW_STORAGE": "/tmp/x"]))()
        #expect(store is LocalStore)
    }

    @Test func s3NeedsAnEndpointAndCredentialsOnlyItsOwnerMayRead() throws {
        let base = ["DOCFLOW_STORAGE": "s3://bucket", "DOCFLOW_S3_ENDPOINT": "http://127.0.0.1:9"]
        #expect(throws: StorageError.self) { _ = try StorageBackend.factory(config(base)) }
        #expect(throws: StorageError.self) { _ = try StorageBackend.factory(config(["DOCFLOW_STORAGE": "s3://", "DOCFLOW_S3_ENDPOINT": "http://h"])) }
        #expect(throws: StorageError.self) { _ = try StorageBackend.factory(config(["DOCFLOW_STORAGE": "s3://b", "DOCFLOW_S3_ENDPOINT": "ftp://h"])) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("creds-\(UUID().uuidString)").path
        defer { unlink(file) }
        FileManager.default.createFile(atPath: file, contents: Data("# test\naccess_key_id = AKIDTEST\nsecret_access_key = s3cr3t-value\n".utf8))
        chmod(file, 0o644)
        do {
            _ = try StorageBackend.factory(config(base.merging(["DOCFLOW_S3_CREDENTIALS_FILE": file]) { $1 }))
            Issue.record("a credentials file others may read was accepted")
        } catch let e as StorageError {
            #expect(e.cause.contains("chmod 600") && !String(reflecting: e).contains("s3cr3t"))
        }
        chmod(file, 0o600)
        let store = try StorageBackend.factory(config(base.merging(["DOCFLOW_S3_CREDENTIALS_FILE": file]) { $1 }))()
        let s3 = try #require(store as? S3Store)
        #expect(s3.client.signer.credentials.accessKeyID == "AKIDTEST")
        #expect(!"\(s3.client.signer.credentials)".contains("s3cr3t"))
        // The environment's pair wins over the file; the secret never shows in the config.
        let env = config(base.merging(["DOCFLOW_S3_ACCESS_KEY_ID": "AKIDENV", "DOCFLOW_S3_SECRET_ACCESS_KEY": "envsecret"]) { $1 })
        #expect(!"\(env)".contains("envsecret"))
        #expect((try StorageBackend.factory(env)() as? S3Store)?.client.signer.credentials.accessKeyID == "AKIDENV")
    }
}
