import DocFlowCore
import DocFlowS3
import Foundation
import Testing

/// The storage interface behaves the same on both backends: one conformance sequence, run on the
/// local directory and on SeaweedFS.
func objectStoreConformance(_ store: ObjectStore, _ p: String) throws {
    let small = Array("id,name\n1,a\n".utf8)
    try store.put(p + "input/c1/j1.csv", bytes: small)
    #expect(try store.head(p + "input/c1/j1.csv") == StoredObject(key: p + "input/c1/j1.csv", size: Int64(small.count)))
    #expect(try store.bytes(p + "input/c1/j1.csv") == small)
    #expect(try store.bytes(p + "input/c1/j1.csv", range: 3...6) == Array(small[3...6]))
    // Replaced whole by a second put.
    try store.put(p + "input/c1/j1.csv", bytes: [1, 2])
    #expect(try store.bytes(p + "input/c1/j1.csv") == [1, 2])
    // A file streamed in from a descriptor, out through the sink.
    let big = (0..<(2_500_000)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
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
        try objectStoreConformance(S3Store(client: client), "store-\(UUID().uuidString.lowercased())/")
        // The store unreachable: a transient error.
        let down = S3Store(client: S3Client(endpoint: "http://127.0.0.1:9", bucket: "docflow-tests", signer: signer))
        do {
            _ = try down.head("x")
            Issue.record("an unreachable store answered")
        } catch let e as StorageError {
            #expect(e.isTransient && !e.isNotFound)
        }
    }
}
