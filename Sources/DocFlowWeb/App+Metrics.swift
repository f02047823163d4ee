import DocFlowCore
import DocFlowStore
import Foundation

extension App.Worker {
    /// `GET /metrics` in the Prometheus text format (nginx serves it to loopback only): this
    /// process's requests, then the cluster's queue, runners and storage from PostgreSQL.
    func metricsText() -> Response {
        var out = PromText()
        app.metrics.write(to: &out)
        var up = 0.0
        if let (stats, gauges) = try? withDB({ db -> ((counts: [(JobStatus, Int)], oldestPendingSeconds: Double), (runners: Int, busy: Int, bytes: Int64, clients: Int)) in
            try app.jobMetrics.refresh(db)
            return (try db.jobCountsByStatus(), try db.clusterGauges())
        }) {
            up = 1
            out.values("docflow_jobs", "gauge", "Jobs by status.", stats.counts.map { ([("status", $0.0.rawValue)], Double($0.1)) })
            out.values("docflow_oldest_pending_seconds", "gauge", "Age of the oldest pending job.", [([], stats.oldestPendingSeconds)])
            out.values("docflow_runners", "gauge", "Runners holding a runner slot.", [([], Double(gauges.runners))])
            out.values("docflow_runner_busy_slots", "gauge", "Jobs being converted now (claimed, not finished).", [([], Double(gauges.busy))])
            out.values("docflow_storage_bytes_used", "gauge",
                       "Bytes stored for clients: inputs, outputs and reserved upload slots (the quota's accounting).",
                       [([], Double(gauges.bytes))])
            out.values("docflow_clients", "gauge", "Clients with files or jobs.", [([], Double(gauges.clients))])
            app.jobMetrics.write(to: &out)
        }
        out.values("docflow_database_up", "gauge", "Whether the database answered this scrape.", [([], up)])
        return Response(status: 200, headers: [("Content-Type", PromText.contentType)], body: Array(out.text.utf8))
    }

    /// `GET /api/jobs/{id}/events`: the job's history, oldest first (kept after the job is deleted,
    /// until its client expires).
    func jobEvents(_ req: Request, _ idText: String) throws -> Response {
        let client = try requireClient(req), id = try Identity.jobID(idText)
        guard let body = try withDB({ try $0.jobEventsJSON(client: client, id: id) }) else { throw APIError.notFound }
        return .json(200, body)
    }
}
