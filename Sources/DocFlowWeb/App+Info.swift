import DocFlowCore
import DocFlowFormats
import DocFlowStore
import Foundation

extension App.Worker {
    /// `GET /api/formats`: every format and what it converts to, from the conversion matrix.
    func formats() -> Response {
        let reg = app.formats
        let items = reg.formats.map { f -> String in
            let targets = reg.targets(from: f).map { JSONText.quoted($0.id) }.joined(separator: ", ")
            let exts = f.extensions.map { JSONText.quoted($0) }.joined(separator: ", ")
            return "{\"id\": \(JSONText.quoted(f.id)), \"name\": \(JSONText.quoted(f.name)), \"extensions\": [\(exts)], "
                + "\"mime_type\": \(JSONText.quoted(f.mimeType)), \"readable\": \(reg.isReadable(f)), "
                + "\"writable\": \(reg.isWritable(f)), \"to\": [\(targets)]}"
        }
        return .json(200, "{\"formats\": [" + items.joined(separator: ", ") + "]}")
    }

    /// `GET /api/usage`: bytes used, limit and expiry of this client.
    func usage(_ req: Request) throws -> Response {
        if let c = Identity.clientID(req), let body = try withDB({ try $0.clientUsageJSON(c) }) { return .json(200, body) }
        return .json(200, "{\"bytes_used\": 0, \"bytes_limit\": \(app.config.quotaBytes), \"created_at\": null, \"expires_at\": null, \"jobs\": 0}")
    }

    func queue() throws -> Response {
        .json(200, try withDB { try $0.queueStatsJSON() })
    }

    /// 200 when the database answers, 503 otherwise.
    func health() -> Response {
        do {
            _ = try withDB { try $0.query("SELECT 1 AS ok") }
            return .json(200, "{\"status\": \"ok\", \"database\": \"ok\"}")
        } catch {
            return .json(503, "{\"status\": \"unavailable\", \"database\": \"unreachable\", \"error\": {\"code\": \"database_unavailable\", \"message\": \"The database is unavailable.\"}}")
        }
    }

    /// `GET /metrics` in the Prometheus text format (nginx serves it to loopback only).
    func metricsText() -> Response {
        let snap = app.metrics.snapshot()
        var out = "# HELP docflow_http_requests_total HTTP requests handled by this fcgi-app, by status.\n"
        out += "# TYPE docflow_http_requests_total counter\n"
        for (status, n) in snap.byStatus.sorted(by: { $0.key < $1.key }) {
            out += "docflow_http_requests_total{status=\"\(status)\"} \(n)\n"
        }
        out += "# HELP docflow_http_request_seconds_sum Total time spent handling requests.\n# TYPE docflow_http_request_seconds_sum counter\n"
        out += "docflow_http_request_seconds_sum \(snap.seconds)\ndocflow_http_request_seconds_count \(snap.count)\n"
        var up = 0
        if let stats = try? withDB({ try $0.jobCountsByStatus() }) {
            up = 1
            out += "# HELP docflow_jobs Jobs by status.\n# TYPE docflow_jobs gauge\n"
            for (status, n) in stats.counts { out += "docflow_jobs{status=\"\(status.rawValue)\"} \(n)\n" }
            out += "# HELP docflow_oldest_pending_seconds Age of the oldest pending job.\n# TYPE docflow_oldest_pending_seconds gauge\n"
            out += "docflow_oldest_pending_seconds \(stats.oldestPendingSeconds)\n"
        }
        out += "# HELP docflow_database_up Whether the database answered.\n# TYPE docflow_database_up gauge\ndocflow_database_up \(up)\n"
        return Response(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")], body: Array(out.utf8))
    }
}
