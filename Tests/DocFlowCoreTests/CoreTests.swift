import DocFlowCore
import Foundation
import Testing

@Suite struct ClientIDTests {
    @Test func onlyAWellFormedUUIDv4Counts() {
        let v4 = "0b6f1d3c-8a2e-4f5b-9c7d-1e2f3a4b5c6d"
        #expect(ClientID.parse(v4)?.uuidString.lowercased() == v4)
        #expect(ClientID.parse("0b6f1d3c-8a2e-1f5b-9c7d-1e2f3a4b5c6d") == nil)  // version 1
        #expect(ClientID.parse("0b6f1d3c-8a2e-4f5b-1c7d-1e2f3a4b5c6d") == nil)  // not the RFC 4122 variant
        #expect(ClientID.parse("not-a-uuid") == nil)
        #expect(ClientID.fromCookieHeader("a=b; client_id=\(v4); c=d")?.uuidString.lowercased() == v4)
        #expect(ClientID.fromCookieHeader("client_id=\(v4.uppercased())") != nil)
        // The first client_id decides: a malformed one is not skipped for a later one.
        #expect(ClientID.fromCookieHeader("client_id=junk; client_id=\(v4)") == nil)
        #expect(ClientID.fromCookieHeader(nil) == nil)
        let cookie = ClientID.setCookie(UUID(uuidString: v4)!, maxAge: 86400, secure: true)
        #expect(cookie == "client_id=\(v4); Max-Age=86400; Path=/; HttpOnly; SameSite=Lax; Secure")
    }
}

@Suite struct AtomicFileTests {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("docflow-core-\(UUID().uuidString)").path

    @Test func aFileIsWrittenWholeOrNotAtAll() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/out.txt"
        try AtomicFile.write(to: path) { sink in
            try sink.write(Array("hello ".utf8))
            #expect(!FileManager.default.fileExists(atPath: path))  // only the part file exists while writing
            try sink.write(Array("world".utf8))
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "hello world")
        struct Failed: Error {}
        #expect(throws: Failed.self) {
            try AtomicFile.write(to: path) { sink in
                try sink.write(Array("half".utf8))
                throw Failed()
            }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "hello world")  // the old file stands
        #expect(!FileManager.default.fileExists(atPath: path + ".part"))
        // Without createFolder a missing folder is an error, not a new folder.
        #expect(throws: SinkError.self) { try AtomicFile.write(to: dir + "/no/such/out.txt", createFolder: false) { _ in } }
        try AtomicFile.write(to: dir + "/made/out.txt") { try $0.write([1]) }
        #expect(FileManager.default.fileExists(atPath: dir + "/made/out.txt"))
    }
}

@Suite struct StorageTests {
    @Test func pathsAreMadeFromUUIDsAndWhitelistedExtensions() {
        let c = UUID(uuidString: "0B6F1D3C-8A2E-4F5B-9C7D-1E2F3A4B5C6D")!, j = UUID(uuidString: "11111111-2222-4333-8444-555555555555")!
        #expect(Storage.inputPath(client: c, job: j, ext: "csv") == "input/0b6f1d3c-8a2e-4f5b-9c7d-1e2f3a4b5c6d/11111111-2222-4333-8444-555555555555.csv")
        #expect(Storage.outputPath(client: c, job: j, attempt: 2, ext: "pdf").hasSuffix("/11111111-2222-4333-8444-555555555555-a2.pdf"))
        #expect(Storage(root: "/srv/storage/").absolute("tmp/x") == "/srv/storage/tmp/x")
    }
}

@Suite struct ConfigTests {
    @Test func defaultsAndBounds() {
        let d = Config(environment: [:])
        #expect(d.quotaBytes == 250 * 1024 * 1024 && d.clientTTLSeconds == 86400 && d.sandbox == "bwrap" && d.runnerSlots == 2)
        let c = Config(environment: ["DOCFLOW_MAX_ATTEMPTS": "99", "DOCFLOW_RUNNER_SLOTS": "0", "DOCFLOW_JOB_FILE_MB": "junk"])
        #expect(c.maxAttempts == 20 && c.runnerSlots == 1 && c.jobFileMB == 1024)
    }

    @Test func jobStatesAreOneList() {
        #expect(JobStatus.allCases.map(\.rawValue) == ["PENDING", "PROCESSING", "DONE", "FAILED", "CANCELED"])
        #expect(JobStatus.allCases.filter(\.isFinal) == [.done, .failed, .canceled])
    }

    @Test func jsonTextQuotesAsRFC8259() {
        #expect(JSONText.quoted("a/b") == "\"a/b\"")
        #expect(JSONText.quoted("q\"\\\n\u{1}") == "\"q\\\"\\\\\\n\\u0001\"")
    }
}
