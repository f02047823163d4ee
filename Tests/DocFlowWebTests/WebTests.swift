import DocFlowCore
@testable import DocFlowWeb
import DocFlowStore
import Foundation
import Testing

/// A body that hands out a few bytes at a time, to cross every buffer boundary.
final class TrickleBody: BodyReader {
    let bytes: [UInt8]
    var offset = 0
    let step: Int
    init(_ bytes: [UInt8], step: Int) { self.bytes = bytes; self.step = step }
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = min(step, buffer.count, bytes.count - offset)
        guard n > 0 else { return 0 }
        for i in 0..<n { buffer[i] = bytes[offset + i] }
        offset += n
        return n
    }
}

/// A web layer with its own storage folder and a database nobody listens on: requests that
/// fail before touching the database show the web layer's own behaviour.
func makeWorker() -> (App.Worker, String) {
    let dir = NSTemporaryDirectory() + "docflow-web-\(UUID().uuidString)"
    let config = Config(environment: ["DOCFLOW_STORAGE": dir, "DOCFLOW_DATABASE": "host=/nonexistent dbname=none connect_timeout=1"])
    return (App.Worker(app: App(config: config)), dir)
}

func json(_ r: Response) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] ?? [:]
}

func errorCode(_ r: Response) -> String? {
    (json(r)["error"] as? [String: Any])?["code"] as? String
}

func multipart(_ boundary: String, fields: [(String, String)], file: (String, [UInt8])?) -> [UInt8] {
    var out: [UInt8] = Array("preamble\r\n".utf8)
    for (k, v) in fields {
        out += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(k)\"\r\n\r\n\(v)\r\n".utf8)
    }
    if let (name, bytes) = file {
        out += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(name)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        out += bytes + Array("\r\n".utf8)
    }
    return out + Array("--\(boundary)--\r\n".utf8)
}

@Suite struct MultipartTests {
    @Test(arguments: [1, 3, 7, 64, 65536])
    func partsSurviveAnyChunking(_ step: Int) throws {
        let file = Array((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) }) + Array("\r\n--notquite".utf8)
        let body = multipart("XyZ", fields: [("to", "html"), ("priority", "7")], file: ("a.md", file))
        var parser = MultipartParser(boundary: "XyZ", body: TrickleBody(body, step: step))
        var received: [UInt8] = []
        try parser.parse { received.append(contentsOf: $0) }
        #expect(received == file)
        #expect(parser.fields == ["to": "html", "priority": "7"])
        #expect(parser.filename == "a.md")
    }

    @Test func truncatedBodyIsRejected() {
        var body = multipart("b", fields: [("to", "html")], file: ("a.md", Array("# hi".utf8)))
        body.removeLast(12)
        var parser = MultipartParser(boundary: "b", body: BytesBody(body))
        #expect(throws: APIError.self) { try parser.parse { _ in } }
    }

    @Test func boundaryComesFromContentType() {
        #expect(MultipartParser.boundary(fromContentType: "multipart/form-data; boundary=\"abc\"") == "abc")
        #expect(MultipartParser.boundary(fromContentType: "text/plain") == nil)
    }

    @Test func utf8FilenameStarWins() {
        let (name, file) = MultipartParser.disposition("Content-Disposition: form-data; name=\"file\"; filename=\"x.md\"; filename*=UTF-8''r%C3%A9sum%C3%A9.md")
        #expect(name == "file")
        #expect(file == "résumé.md")
    }
}

@Suite struct RoutingTests {
    @Test func unknownEndpointIsJSON404() {
        let (w, _) = makeWorker()
        let r = w.handle(Request(method: "GET", uri: "/api/nope"))
        #expect(r.status == 404)
        #expect(errorCode(r) == "not_found")
        #expect(r.header("Content-Type") == "application/json")
    }

    @Test func wrongMethodIs405WithAllow() {
        let (w, _) = makeWorker()
        let r = w.handle(Request(method: "PUT", uri: "/api/jobs"))
        #expect(r.status == 405)
        #expect(r.header("Allow") == "GET, POST")
    }

    @Test func formatsComeFromTheRegistry() throws {
        let (w, _) = makeWorker()
        let r = w.handle(Request(method: "GET", uri: "/api/formats"))
        #expect(r.status == 200)
        let formats = try #require(json(r)["formats"] as? [[String: Any]])
        let md = try #require(formats.first { $0["id"] as? String == "md" })
        #expect(md["to"] as? [String] == ["extract", "html", "pdf", "txt"])
    }

    @Test func jobsOfNoClientAreNotFound() {
        let (w, _) = makeWorker()
        let id = UUID().uuidString
        for (m, uri) in [("GET", "/api/jobs/\(id)"), ("DELETE", "/api/jobs/\(id)"), ("GET", "/api/jobs/\(id)/output"),
                         ("POST", "/api/jobs/\(id)/retry"), ("PATCH", "/api/jobs/\(id)")] {
            let r = w.handle(Request(method: m, uri: uri, headers: ["cookie": "client_id=not-a-uuid"]))
            #expect(r.status == 404, "\(m) \(uri)")
        }
    }

    @Test func databaseDownIs503() {
        let (w, _) = makeWorker()
        let r = w.handle(Request(method: "GET", uri: "/api/health"))
        #expect(r.status == 503)
        let cookie = "client_id=\(UUID().uuidString.lowercased())"
        let r2 = w.handle(Request(method: "GET", uri: "/api/jobs/\(UUID().uuidString)", headers: ["cookie": cookie]))
        #expect(r2.status == 503)
        #expect(errorCode(r2) == "database_unavailable")
    }
}

@Suite struct UploadValidationTests {
    func upload(_ w: App.Worker, name: String, to: String, bytes: [UInt8], extra: [(String, String)] = []) -> Response {
        let body = multipart("B0UND", fields: [("to", to)] + extra, file: (name, bytes))
        return w.handle(Request(method: "POST", uri: "/api/jobs", headers: ["content-type": "multipart/form-data; boundary=B0UND"],
                                contentLength: Int64(body.count), body: BytesBody(body)))
    }

    func leftovers(_ dir: String) -> [String] {
        (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".part") || $0.contains(".") && !$0.hasPrefix("tmp") && $0.split(separator: "/").count > 2 }
    }

    @Test func refusedUploadsLeaveNoFile() {
        let (w, dir) = makeWorker()
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52] + Array(repeating: 7, count: 64)
        let cases: [(Response, Int, String)] = [
            (upload(w, name: "x.md", to: "json", bytes: Array("# hi".utf8)), 400, "unsupported_conversion"),
            (upload(w, name: "x.exe", to: "html", bytes: Array("# hi".utf8)), 415, "unsupported_format"),
            (upload(w, name: "x.md", to: "html", bytes: png), 415, "content_mismatch"),
            (upload(w, name: "x.md", to: "html", bytes: []), 400, "empty_file"),
            (upload(w, name: "x.md", to: "html", bytes: Array("# hi".utf8), extra: [("priority", "11")]), 400, "bad_priority"),
            (upload(w, name: "x.md", to: "html", bytes: Array("# hi".utf8), extra: [("options", "[1]")]), 400, "bad_options"),
            (upload(w, name: "../../etc/x.md", to: "", bytes: Array("# hi".utf8)), 400, "missing_target"),
        ]
        for (r, status, code) in cases {
            #expect(r.status == status, "\(code)")
            #expect(errorCode(r) == code)
        }
        let tmp = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/tmp")) ?? []
        #expect(tmp.isEmpty, "temporary files left: \(tmp)")
        let input = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/input")) ?? []
        #expect(input.isEmpty)
    }

    @Test func rawBodyNeedsFilename() {
        let (w, _) = makeWorker()
        let r = w.handle(Request(method: "POST", uri: "/api/jobs?to=html", contentLength: 4, body: BytesBody("# hi")))
        #expect(r.status == 400)
        #expect(errorCode(r) == "missing_filename")
    }

    @Test func tooLargeByContentLengthIs413() {
        let (w, _) = makeWorker()
        let r = w.handle(Request(method: "POST", uri: "/api/jobs?filename=a.md&to=html", contentLength: 1 << 40, body: BytesBody("")))
        #expect(r.status == 413)
        #expect(errorCode(r) == "too_large")
    }
}

@Suite struct DownloadNameTests {
    @Test func extensionIsReplacedAndUTF8Kept() {
        #expect(App.Worker.downloadName("report.final.md", ext: "html") == "report.final.html")
        #expect(App.Worker.downloadName("noext", ext: "json") == "noext.json")
        let cd = App.Worker.contentDisposition("résumé \"q\".html")
        #expect(cd.hasPrefix("attachment; filename=\"resume _q_.html\""))
        #expect(cd.hasSuffix("filename*=UTF-8''r%C3%A9sum%C3%A9%20%22q%22.html"))
    }

    @Test(arguments: [
        ("Quarterly report — Ünïcödé 报告 (v2).pdf", "Quarterly report - Unicode bao gao (v2).pdf"),
        ("Отчёт за квартал.docx", "Otcet za kvartal.docx"),
        ("straße.csv", "strasse.csv"),
        ("100% \\ done.md", "100_ _ done.md"),
        ("😀.txt", "_.txt"),
    ])
    func theASCIIFallbackIsTransliterated(_ name: String, _ fallback: String) {
        #expect(App.Worker.contentDisposition(name).hasPrefix("attachment; filename=\"\(fallback)\"; filename*=UTF-8''"))
    }

    @Test func pathsAreStrippedFromNames() {
        #expect(App.Worker.baseName("C:\\Users\\me\\a.csv") == "a.csv")
        #expect(App.Worker.baseName("../../etc/passwd") == "passwd")
        #expect(App.Worker.baseName("a\u{0}b.md") == "ab.md")
    }
}
