/// One operation the API answers: a method on a path template whose `{…}` segments match any one
/// segment and are handed to the handler in order. The table is what `route` dispatches on and
/// what the tests compare with the OpenAPI description (`openapi.json`).
struct Route: Sendable {
    let method: String
    /// `/api/jobs/{id}/output`.
    let template: String
    /// The template's segments, split once.
    let parts: [String]
    /// Served to this host only (nginx allows loopback): left out of the public description.
    let operatorOnly: Bool
    let handler: @Sendable (App.Worker, Request, [String]) throws -> Response

    init(_ method: String, _ template: String, operatorOnly: Bool = false,
         _ handler: @escaping @Sendable (App.Worker, Request, [String]) throws -> Response) {
        self.method = method; self.template = template; self.operatorOnly = operatorOnly; self.handler = handler
        parts = template.split(separator: "/").map(String.init)
    }

    /// The `{…}` values when `segments` match the template, else nil.
    func match(_ segments: [String]) -> [String]? {
        guard parts.count == segments.count else { return nil }
        var args: [String] = []
        for (p, s) in zip(parts, segments) {
            if p.hasPrefix("{") { args.append(s) } else if p != s { return nil }
        }
        return args
    }
}

extension App {
    /// Every operation; a path's methods in the order its `Allow` header lists them.
    static let routes: [Route] = [
        Route("GET", "/api/jobs") { w, r, _ in try w.listJobs(r) },
        Route("POST", "/api/jobs") { w, r, _ in try w.createJob(r) },
        // Before /api/jobs/{id}, which the path would match too.
        Route("GET", "/api/jobs/archive") { w, r, _ in try w.archiveJobs(r) },
        Route("GET", "/api/jobs/{id}") { w, r, a in try w.getJob(r, a[0]) },
        Route("DELETE", "/api/jobs/{id}") { w, r, a in try w.deleteJob(r, a[0]) },
        Route("PATCH", "/api/jobs/{id}") { w, r, a in try w.patchJob(r, a[0]) },
        Route("GET", "/api/jobs/{id}/output") { w, r, a in try w.downloadJob(r, a[0]) },
        Route("HEAD", "/api/jobs/{id}/output") { w, r, a in try w.downloadJob(r, a[0]) },
        Route("GET", "/api/jobs/{id}/events") { w, r, a in try w.jobEvents(r, a[0]) },
        Route("POST", "/api/jobs/{id}/retry") { w, r, a in try w.retryJob(r, a[0]) },
        Route("POST", "/api/jobs/{id}/cancel") { w, r, a in try w.cancelJob(r, a[0]) },
        Route("GET", "/api/jobs/{id}/webhooks") { w, r, a in try w.jobWebhooks(r, a[0]) },
        Route("POST", "/api/convert") { w, r, _ in try w.convertNow(r) },
        Route("POST", "/api/uploads") { w, r, _ in try w.createUpload(r) },
        Route("GET", "/api/uploads/{id}") { w, r, a in try w.getUpload(r, a[0]) },
        Route("DELETE", "/api/uploads/{id}") { w, r, a in try w.deleteUpload(r, a[0]) },
        Route("POST", "/api/uploads/{id}/jobs") { w, r, a in try w.createJobFromUpload(r, a[0]) },
        Route("GET", "/api/webhook") { w, r, _ in try w.getWebhook(r) },
        Route("PUT", "/api/webhook") { w, r, _ in try w.putWebhook(r) },
        Route("DELETE", "/api/webhook") { w, r, _ in try w.deleteWebhook(r) },
        Route("POST", "/api/webhook/secret") { w, r, _ in try w.rotateWebhookSecret(r) },
        Route("GET", "/api/formats") { w, _, _ in w.formats() },
        Route("GET", "/api/usage") { w, r, _ in try w.usage(r) },
        Route("GET", "/api/queue") { w, _, _ in try w.queue() },
        Route("GET", "/api/health") { w, _, _ in w.health() },
        Route("GET", "/api/openapi.json") { _, _, _ in
            Response(status: 200, headers: [("Content-Type", "application/json"), ("Cache-Control", "public, max-age=300")], body: App.openAPI)
        },
        Route("GET", "/metrics", operatorOnly: true) { w, _, _ in w.metricsText() },
    ]
}

extension App {
    /// The routes of the resource a path names: those of the first template that matches it
    /// (`/api/jobs/archive` before `/api/jobs/{id}`), one per method; empty when none matches.
    static func resource(_ path: [String]) -> [Route] {
        guard let template = routes.first(where: { $0.match(path) != nil })?.template else { return [] }
        return routes.filter { $0.template == template }
    }
}

extension App {
    /// This API's OpenAPI 3.1 description (`openapi.json`, embedded in the binary).
    static let openAPI: [UInt8] = PackageResources.openapi_json
}
