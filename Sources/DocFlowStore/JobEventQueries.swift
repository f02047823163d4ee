import DocFlowCore
import Foundation

/// One job event as the metrics read it (migration m0005: `job_events`).
public struct JobEventSample: Sendable {
    public var kind: String
    public var pair: String
    public var attempt: Int
    /// `detail.code` (retried, rescued, failed).
    public var code: String?
    /// `detail.wait_seconds` (claimed) or `detail.seconds` (done, failed, retried, rescued).
    public var seconds: Double?
    public var inputBytes: Int64?
    public var outputBytes: Int64?
}

/// Queries on `job_events`, the history the triggers write (one file per table).
extension PGConnection {
    /// A job's history as `{"job_id": …, "events": [{at, kind, attempt, …}, …]}`, oldest first;
    /// nil when this client has no such job (a deleted job's history stays until the client expires).
    public func jobEventsJSON(client: UUID, id: UUID) throws -> String? {
        try query("""
            SELECT json_build_object('job_id', \(id)::uuid,
                                     'events', json_agg(docflow_job_event_json(e) ORDER BY e.id))::text AS body
            FROM job_events e WHERE e.client_id = \(client) AND e.job_id = \(id)
            HAVING count(*) > 0
            """).first?.decode("body")
    }

    /// The oldest transaction id still running (`pg_snapshot_xmin`): every transaction below it
    /// has ended, so every event it wrote that will ever be visible is visible now.
    public func jobEventsHorizon() throws -> String {
        try query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x").first?.decode("x") ?? "0"
    }

    /// The events written by transactions in [`from`, `to`) (horizons from `jobEventsHorizon`),
    /// for the metrics: each committed event is in exactly one such range.
    public func jobEventSamples(from: String, to: String) throws -> [JobEventSample] {
        try query("""
            SELECT kind::text AS kind, pair, attempt, detail->>'code' AS code,
                   coalesce(detail->>'wait_seconds', detail->>'seconds')::float8 AS seconds,
                   (detail->>'input_bytes')::bigint AS input_bytes, (detail->>'output_bytes')::bigint AS output_bytes
            FROM job_events
            WHERE xact >= \(from)::xid8 AND xact < \(to)::xid8
              AND kind IN ('queued', 'claimed', 'retried', 'rescued', 'done', 'failed')
            """).rows.map { r in
            JobEventSample(kind: try r.decode("kind"), pair: try r.decode("pair"), attempt: try r.decode("attempt"),
                           code: try r.decodeIfPresent("code"), seconds: try r.decodeIfPresent("seconds"),
                           inputBytes: try r.decodeIfPresent("input_bytes"), outputBytes: try r.decodeIfPresent("output_bytes"))
        }
    }

    /// What the metrics show as gauges: runners holding a slot, jobs being converted, bytes stored
    /// for clients (the quota's accounting: inputs, outputs and upload slots), clients.
    public func clusterGauges() throws -> (runners: Int, busy: Int, bytes: Int64, clients: Int) {
        guard let r = try query("""
            SELECT (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
                      AND classid = \(LockClass.runnerSlot)::int::oid AND objsubid = 2) AS runners,
                   (SELECT count(*) FROM jobs WHERE status = \(JobStatus.processing)) AS busy,
                   (SELECT coalesce(sum(bytes_used), 0)::bigint FROM clients) AS bytes,
                   (SELECT count(*) FROM clients) AS clients
            """).first else { return (0, 0, 0, 0) }
        return (try r.decode("runners"), try r.decode("busy"), try r.decode("bytes"), try r.decode("clients"))
    }
}
