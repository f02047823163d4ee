import DocFlowModel
import Foundation

/// A job a runner has claimed.
public struct ClaimedJob: Sendable {
    public var id: UUID
    public var clientID: UUID
    public var inputPath: String
    public var inputFormat: String
    public var outputFormat: String
    public var optionsJSON: String
    public var attempt: Int
    public var maxAttempts: Int
}

/// A converted job waiting to be marked done.
public struct FinishedJob: Sendable {
    public var job: ClaimedJob
    public var outputPath: String
    public var outputBytes: Int64
    public var warningsJSON: String
    public var metadataJSON: String

    public init(job: ClaimedJob, outputPath: String, outputBytes: Int64, warningsJSON: String, metadataJSON: String) {
        self.job = job; self.outputPath = outputPath; self.outputBytes = outputBytes
        self.warningsJSON = warningsJSON; self.metadataJSON = metadataJSON
    }

    /// One element of the JSON array `jobFinish` binds as a single parameter.
    var json: String {
        "{\"id\": \"\(job.id.uuidString.lowercased())\", \"attempt\": \(job.attempt), \"output_path\": \(JSONText.quoted(outputPath)), "
            + "\"output_bytes\": \(outputBytes), \"warnings\": \(warningsJSON), \"metadata\": \(metadataJSON)}"
    }
}

/// Queries of the job-runner and the janitor: claim, heartbeat, progress, finish, fail, rescue.
/// Every write after the claim is fenced by (id, status PROCESSING, attempt).
extension PGConnection {
    /// Takes one of the runner slots (`pg_try_advisory_lock(7002, n)`), or returns nil.
    public func runnerSlotTake(slots: Int) throws -> Int? {
        for n in 1...slots {
            if try query("SELECT pg_try_advisory_lock(7002, \(n)) AS ok").first?.bool("ok") == true { return n }
        }
        return nil
    }

    /// Claims up to `limit` of the best pending jobs in one statement (SKIP LOCKED), with a lease
    /// and a session advisory lock on each job that tells a rescuer whether this runner is alive.
    /// Returned best first.
    public func jobClaim(limit: Int = 1, leaseSeconds: Double, worker: String) throws -> [ClaimedJob] {
        let r = try query("""
            WITH next AS (
                SELECT id FROM jobs
                WHERE status = 'PENDING' AND run_after <= now()
                ORDER BY priority DESC, created_at
                FOR UPDATE SKIP LOCKED
                LIMIT \(limit)
            )
            UPDATE jobs j SET status = 'PROCESSING', attempt = j.attempt + 1,
                   lease_until = now() + make_interval(secs => \(leaseSeconds)), locked_by = \(worker),
                   started_at = now(), progress = 0, step = 'starting'
            FROM next WHERE j.id = next.id
            RETURNING j.id, j.client_id, j.input_path, j.input_format, j.output_format, j.options::text AS options,
                      j.attempt, j.max_attempts, j.priority, j.created_at,
                      pg_try_advisory_lock(7001, hashtext(j.id::text)) AS locked
            """)
        return r.rows.sorted {
            let (p0, p1) = ($0.int("priority") ?? 0, $1.int("priority") ?? 0)
            return p0 != p1 ? p0 > p1 : ($0.string("created_at") ?? "") < ($1.string("created_at") ?? "")
        }.map { r in
            ClaimedJob(id: r.uuid("id")!, clientID: r.uuid("client_id")!, inputPath: r.string("input_path") ?? "",
                       inputFormat: r.string("input_format") ?? "", outputFormat: r.string("output_format") ?? "",
                       optionsJSON: r.string("options") ?? "{}", attempt: r.int("attempt") ?? 1,
                       maxAttempts: r.int("max_attempts") ?? 1)
        }
    }

    /// Gives claimed jobs that were not started back to the queue, as if never claimed.
    public func jobRelease(_ jobs: [ClaimedJob]) throws {
        guard !jobs.isEmpty else { return }
        let list = "[" + jobs.map { "{\"id\": \"\($0.id.uuidString.lowercased())\", \"attempt\": \($0.attempt)}" }.joined(separator: ",") + "]"
        try query("""
            UPDATE jobs j SET status = 'PENDING', attempt = j.attempt - 1, lease_until = NULL, locked_by = NULL,
                   started_at = NULL, step = NULL
            FROM jsonb_to_recordset(\(list)::jsonb) AS x(id uuid, attempt int)
            WHERE j.id = x.id AND j.status = 'PROCESSING' AND j.attempt = x.attempt
            RETURNING pg_advisory_unlock(7001, hashtext(j.id::text)) AS unlocked
            """)
    }

    /// Renews the lease; false when the job is no longer ours (deleted or rescued).
    public func jobHeartbeat(_ job: ClaimedJob, leaseSeconds: Double) throws -> Bool {
        try query("""
            UPDATE jobs SET lease_until = now() + make_interval(secs => \(leaseSeconds))
            WHERE id = \(job.id) AND status = 'PROCESSING' AND attempt = \(job.attempt)
            """).affectedRows == 1
    }

    /// Records progress (the notify trigger sends `job_progress`; the runner throttles calls).
    public func jobProgress(_ job: ClaimedJob, percent: Int, step: String) throws {
        try query("""
            UPDATE jobs SET progress = \(percent), step = \(step)
            WHERE id = \(job.id) AND status = 'PROCESSING' AND attempt = \(job.attempt)
            """)
    }

    /// Marks jobs done with their outputs, each once, in one statement that also charges the output
    /// bytes to their clients' quota (one row update per client): returns the ids that were still
    /// ours (a job deleted or taken over meanwhile is left alone). Throws SQLSTATE 23514 when an
    /// output would put its client over quota (the whole statement is then undone).
    public func jobFinish(_ items: [FinishedJob]) throws -> Set<UUID> {
        guard !items.isEmpty else { return [] }
        let list = "[" + items.map(\.json).joined(separator: ",") + "]"
        let r = try query("""
            WITH done AS (
                UPDATE jobs j SET status = 'DONE', output_path = x.output_path, output_bytes = x.output_bytes,
                       warnings = x.warnings, metadata = x.metadata, progress = 100, step = 'done',
                       processed_at = now(), lease_until = NULL, error_code = NULL, error_message = NULL
                FROM jsonb_to_recordset(\(list)::jsonb)
                     AS x(id uuid, attempt int, output_path text, output_bytes bigint, warnings jsonb, metadata jsonb)
                WHERE j.id = x.id AND j.status = 'PROCESSING' AND j.attempt = x.attempt
                RETURNING j.id, j.client_id, j.output_bytes, pg_advisory_unlock(7001, hashtext(j.id::text)) AS unlocked
            ), charged AS (
                UPDATE clients c SET bytes_used = c.bytes_used + d.bytes
                FROM (SELECT client_id, sum(output_bytes) AS bytes FROM done GROUP BY client_id) d
                WHERE c.id = d.client_id
            )
            SELECT id FROM done
            """)
        let mine = Set(r.rows.compactMap { $0.uuid("id") })
        for item in items where !mine.contains(item.job.id) { try releaseJobLock(item.job) }
        return mine
    }

    /// Records a failed attempt: back to PENDING after a backoff when `retry` and attempts remain,
    /// else FAILED with the reason. False when the job was no longer ours.
    @discardableResult
    public func jobFail(_ job: ClaimedJob, code: String, message: String, retry: Bool,
                        backoffSeconds: Double) throws -> Bool {
        let r = try query("""
            UPDATE jobs SET
                status = CASE WHEN \(retry) AND attempt < max_attempts THEN 'PENDING' ELSE 'FAILED' END::job_status,
                run_after = now() + make_interval(secs => \(backoffSeconds)::float8 * attempt),
                error_code = \(code), error_message = \(message), lease_until = NULL, step = NULL,
                processed_at = CASE WHEN \(retry) AND attempt < max_attempts THEN NULL ELSE now() END
            WHERE id = \(job.id) AND status = 'PROCESSING' AND attempt = \(job.attempt)
            RETURNING pg_advisory_unlock(7001, hashtext(id::text)) AS unlocked
            """)
        if r.count == 0 { try releaseJobLock(job) }
        return r.count == 1
    }

    private func releaseJobLock(_ job: ClaimedJob) throws {
        try query("SELECT pg_advisory_unlock(7001, hashtext(\(job.id.uuidString.lowercased()))) AS unlocked")
    }

    /// Puts back (or fails, after max_attempts) processing jobs whose runner is gone: its lease ran
    /// out, or its session advisory lock is free. Must not run while this connection holds a job.
    public func jobRescue(backoffSeconds: Double, limit: Int = 100) throws -> Int {
        try transaction {
            try query("""
                WITH dead AS (
                    SELECT id FROM jobs
                    WHERE status = 'PROCESSING'
                      AND (lease_until < now() OR pg_try_advisory_xact_lock(7001, hashtext(id::text)))
                    FOR UPDATE SKIP LOCKED
                    LIMIT \(limit)
                )
                UPDATE jobs j SET
                    status = CASE WHEN j.attempt < j.max_attempts THEN 'PENDING' ELSE 'FAILED' END::job_status,
                    run_after = now() + make_interval(secs => \(backoffSeconds)::float8 * j.attempt),
                    error_code = 'runner_lost',
                    error_message = CASE WHEN j.attempt < j.max_attempts
                        THEN 'Attempt ' || j.attempt || ' of ' || j.max_attempts || ' stopped: the runner process died (crash, kill or memory limit); the job will be retried.'
                        ELSE 'Gave up after ' || j.attempt || ' attempts: the runner process died during the conversion each time (crash, kill or memory limit).' END,
                    lease_until = NULL, step = NULL,
                    processed_at = CASE WHEN j.attempt < j.max_attempts THEN NULL ELSE now() END
                FROM dead WHERE j.id = dead.id
                """).affectedRows
        }
    }

    /// The input and output paths of one client's jobs (for the orphan sweep, a folder at a time).
    public func jobPaths(client: String) throws -> Set<String> {
        var out = Set<String>()
        for r in try query("SELECT input_path, output_path FROM jobs WHERE client_id = \(client)::uuid").rows {
            if let p = r.string("input_path") { out.insert(p) }
            if let p = r.string("output_path") { out.insert(p) }
        }
        return out
    }
}
