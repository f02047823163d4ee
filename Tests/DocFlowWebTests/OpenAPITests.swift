@testable import DocFlowWeb
import Foundation
import Testing

/// The OpenAPI description against the code: the routes the app answers, the error codes it and
/// nginx send, the job object the database builds, the history's event kinds.
@Suite struct OpenAPITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let spec: [String: Any] = (try? JSONSerialization.jsonObject(with: Data(App.openAPI))) as? [String: Any] ?? [:]

    static func schema(_ name: String) -> [String: Any] {
        ((spec["components"] as? [String: Any])?["schemas"] as? [String: Any])?[name] as? [String: Any] ?? [:]
    }

    static func enumOf(_ schema: [String: Any], _ property: String) -> Set<String> {
        Set(((schema["properties"] as? [String: Any])?[property] as? [String: Any])?["enum"] as? [String] ?? [])
    }

    /// Every text file under `dir` (relative to the package) ending in one of `suffixes`, concatenated.
    static func sources(_ dir: String, _ suffixes: [String]) -> String {
        let base = root.appendingPathComponent(dir)
        let files = FileManager.default.enumerator(atPath: base.path)?.compactMap { $0 as? String } ?? []
        return files.filter { f in suffixes.contains { f.hasSuffix($0) } }
            .compactMap { try? String(contentsOf: base.appendingPathComponent($0), encoding: .utf8) }.joined(separator: "\n")
    }

    static func matches(_ pattern: String, in text: String) -> Set<String> {
        let re = try! NSRegularExpression(pattern: pattern)
        return Set(re.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { m in
            Range(m.range(at: 1), in: text).map { String(text[$0]) }
        })
    }

    @Test func isOpenAPI31() {
        #expect(Self.spec["openapi"] as? String == "3.1.0")
        #expect((Self.spec["info"] as? [String: Any])?["title"] as? String == "Doc Flow API")
    }

    @Test func everyRouteIsDescribedAndNothingElse() {
        let paths = Self.spec["paths"] as? [String: [String: Any]] ?? [:]
        let described = Set(paths.flatMap { path, ops in ops.keys.map { "\($0.uppercased()) \(path)" } })
        let answered = Set(App.routes.filter { !$0.operatorOnly }.map { "\($0.method) \($0.template)" })
        #expect(answered == described, "answered, not described: \(answered.subtracting(described)); described, not answered: \(described.subtracting(answered))")
        #expect(!described.contains("GET /metrics"))
    }

    @Test func everyErrorCodeSentIsDocumentedAndEveryDocumentedOneIsSent() {
        let swift = Self.sources("Sources/DocFlowWeb", [".swift"])
        let nginx = Self.sources("nginx", [".conf"])
        var sent = Self.matches(#"APIError\(\d{3}, "([a-z0-9_]+)""#, in: swift)
        sent.formUnion(Self.matches(#""code": "([a-z0-9_]+)""#, in: nginx))
        // Refusals fcgi-app hands nginx to turn into JSON (snippets/direct-upload.conf).
        sent.formUnion(Self.matches(#"refuse\("([a-z0-9_]+)"\)"#, in: swift))
        let documented = Self.enumOf(Self.schema("ErrorBody"), "code")
        #expect(sent == documented, "sent, not documented: \(sent.subtracting(documented)); documented, never sent: \(documented.subtracting(sent))")
    }

    @Test func everyJobErrorCodeIsDocumented() {
        let swift = Self.sources("Sources", [".swift"])
        var codes = Self.matches(#"code: "([a-z0-9_]+)""#, in: swift)
        codes.formUnion(Self.matches(#"case [a-zA-Z]+ = "([a-z_]+)""#, in: Self.sources("Sources/DocFlowConvert/Pipeline", ["ConversionError.swift"])))
        codes.formUnion(Self.matches(#"error_code = '([a-z_]+)'"#, in: swift))
        let documented = Self.enumOf(Self.schema("JobError"), "code")
        #expect(codes == documented, "set, not documented: \(codes.subtracting(documented)); documented, never set: \(documented.subtracting(codes))")
    }

    @Test func theJobSchemaHasTheFieldsTheDatabaseSends() {
        // The last definition (migrations are applied in order; the file names sort that way).
        let dir = Self.root.appendingPathComponent("Sources/DocFlowStore/Migrations")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
        let sql = files.compactMap { try? String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8) }.joined(separator: "\n")
        let function = sql.components(separatedBy: "FUNCTION docflow_job_json").last ?? ""
        // The top-level keys (8 spaces in): the error object's own keys are nested deeper.
        let fields = Self.matches(#"\n        '([a-z0-9_]+)', "#, in: function)
        let properties = Set((Self.schema("Job")["properties"] as? [String: Any] ?? [:]).keys)
        #expect(fields.count > 20 && fields == properties, "\(fields.symmetricDifference(properties))")
    }

    @Test func theHistoryKindsAreTheDatabasesOwn() {
        let sql = Self.sources("Sources/DocFlowStore/Migrations", ["m0005_history.sql"])
        let type = sql.components(separatedBy: "CREATE TYPE job_event_kind AS ENUM (").last?.components(separatedBy: ");").first ?? ""
        let kinds = Self.matches(#"'([a-z]+)'"#, in: type)
        #expect(kinds.count == 11 && kinds == Self.enumOf(Self.schema("JobEvent"), "kind"))
    }

    @Test func everyReferenceResolves() throws {
        let text = String(decoding: App.openAPI, as: UTF8.self)
        let refs = Self.matches(##""\$ref": "#/components/(?:schemas|responses)/([A-Za-z]+)""##, in: text)
        let components = Self.spec["components"] as? [String: [String: Any]] ?? [:]
        let known = Set((components["schemas"] ?? [:]).keys).union((components["responses"] ?? [:]).keys)
        #expect(!refs.isEmpty && refs.isSubset(of: known), "\(refs.subtracting(known))")
    }
}

/// `/metrics` labels stay bounded whatever clients send.
@Suite struct MetricsLabelTests {
    @Test func unknownMethodsAndPathsShareOneLabelEach() {
        let (w, _) = makeWorker()
        for i in 0..<5 {
            _ = w.handle(Request(method: "BREW\(i)", uri: "/api/jobs"))
            _ = w.handle(Request(method: "GET", uri: "/nothing/\(i)"))
        }
        let text = String(decoding: w.handle(Request(method: "GET", uri: "/metrics")).body, as: UTF8.self)
        #expect(!text.contains("BREW") && !text.contains("/nothing"))
        #expect(text.contains("docflow_http_requests_total{route=\"/api/jobs\",method=\"other\",status=\"405\"} 5"))
        #expect(text.contains("docflow_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 5"))
        #expect(text.contains("docflow_database_up 0"))
    }
}
