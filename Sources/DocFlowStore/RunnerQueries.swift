import DocFlowCore
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
    /// What the previous attempt failed with (`error_code`, `error_message`), if any.
    public var previousError: (code: String, message: String)?
    /// The direct upload the input belongs to, and the SHA-256 its client declared: the runner
    /// checks the stored bytes against it before converting.
    public var uploadID: UUID? = nil
    public var declaredSHA256: String? = nil
    public var inputBytes: Int64 = 0
    /// The W3C traceparent the attempt's spans continue (`jobs.trace_context`: the span that made
    /// the job); the runner sets it to its own span's when the job has none. Nil when tracing is off.
    public var traceContext: String? = nil
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

/// Advisory lock classes: the first key of `pg_advisory_lock(int4, int4)`, one per use, so the
/// locks of one use never collide with another's.
public enum LockClass {
    /// The migrations, key 1: one process migrates at a time.
    public static let migrations: Int32 = 7000
    /// A job, keyed by `hashtext(id)`: held by the runner session converting it (README: the queue's
    /// states and transitions). A rescuer that can take it knows the owner's session is gone.
    public static let job: Int32 = 7001
    /// A runner slot, keyed 1…DOCFLOW_RUNNER_SLOTS.
    public static let runnerSlot: Int32 = 7002
    /// The runner waiting to take over a slot whose runner has spent its budget, keyed by slot.
    public static let successor: Int32 = 7003
}

/// Queries of the job-runner and the janitor: claim, heartbeat, progress, finish, fail, rescue.
/// Every write after the claim is fenced by (id, status PROCESSING, attempt). Job locks are taken
/// by the claim and given up only by `jobUnlock`, after the statement that fenced the job has
/// committed (a session lock is not transactional: an unlock inside a statement that then fails
/// would free a live job for a rescuer).
extension PGConnection {
    /// Takes one of the runner slots (`pg_try_advisory_lock(runnerSlot, n)`), or returns nil.
    public func runnerSlotTake(slots: Int) throws -> Int? {
        try (1...slots).first { try tryLock(LockClass.runnerSlot, $0) }
    }

    /// `pg_try_advisory_lock(class, key)`: whether this session has the lock now.
    private func tryLock(_ lockClass: Int32, _ key: Int) throws -> Bool {
        try query("SELECT pg_try_advisory_lock(\(lockClass), \(key)) AS ok").first?.decode("ok") == true
    }

    /// Takes slot `n` again (after a reconnect); false when another runner has it now.
    public func runnerSlotRetake(_ n: Int) throws -> Bool { try tryLock(LockClass.runnerSlot, n) }

    /// Becomes the successor of one busy slot (`pg_try_advisory_lock(successor, n)`), or nil when
    /// every slot already has one.
    public func runnerSuccessorTake(slots: Int) throws -> Int? {
        try (1...slots).first { try tryLock(LockClass.successor, $0) }
    }

    /// Waits until slot `n` is free and takes it (a blocking `pg_advisory_lock`), then gives up the
    /// successor lock. False when `timeout` seconds pass first (`lock_timeout`, SQLSTATE 55P03).
    public func runnerSlotWait(_ n: Int, timeout: Double) throws -> Bool {
        try execute("SET lock_timeout = \(Int(timeout * 1000))")
        defer { _ = try? execute("RESET lock_timeout") }
        do {
            try query("SELECT pg_advisory_lock(\(LockClass.runnerSlot), \(n))")
        } catch let e as StoreError where e.isLockNotAvailable {
            try query("SELECT pg_advisory_unlock(\(LockClass.successor), \(n)) AS unlocked")
            return false
        }
        try query("SELECT pg_advisory_unlock(\(LockClass.successor), \(n)) AS unlocked")
        return true
    }

    /// Whether a successor is waiting for slot `n`.
    public func runnerSuccessorWaiting(_ n: Int) throws -> Bool {
        try query("""
            SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
                           AND classid = \(LockClass.successor)::int::oid AND objid = \(n)::int::oid AND objsubid = 2) AS waiting
            """).first?.decode("waiting") == true
    }

    /// Claims up to `limit` of the best pending jobs in one statement (SKIP LOCKED), each with a
    /// lease and this session's advisory lock on the job. A job whose lock another session still
    /// holds (its previous owner, stalled past its lease but alive) is not handed out: it stays
    /// pending until that owner lets go or dies. Returned best first.
    public func jobClaim(limit: Int = 1, leaseSeconds: Double, worker: String) throws -> [ClaimedJob] {
        let r = try query("""
            WITH next AS MATERIALIZED (
                SELECT id FROM jobs
                WHERE status = \(JobStatus.pending) AND run_after <= now()
                ORDER BY priority DESC, created_at, id
                FOR UPDATE SKIP LOCKED
                LIMIT \(limit)
            ), mine AS MATERIALIZED (
                SELECT id FROM next WHERE pg_try_advisory_lock(\(LockClass.job), hashtext(id::text))
            ), claimed AS (
                UPDATE jobs j SET status = \(JobStatus.processing), attempt = j.attempt + 1,
                       lease_until = now() + make_interval(secs => \(leaseSeconds)), locked_by = \(worker),
                       started_at = now(), progress = 0, step = 'starting'
                FROM mine WHERE j.id = mine.id
                RETURNING j.id, j.client_id, j.input_path, j.input_format, j.output_format, j.options::text AS options,
                          j.attempt, j.max_attempts, j.priority, j.created_at, j.error_code, j.error_message,
                          j.upload_id, CASE WHEN j.upload_id IS NOT NULL THEN j.input_sha256 END AS declared_sha256,
                          j.input_bytes, j.trace_context
            )
            SELECT * FROM claimed ORDER BY priority DESC, created_at, id
            """)
        return try r.rows.map { r in
            ClaimedJob(id: try r.decode("id"), clientID: try r.decode("client_id"), inputPath: try r.decode("input_path"),
                       inputFormat: try r.decode("input_format"), outputFormat: try r.decode("output_format"),
                       optionsJSON: try r.decode("options"), attempt: try r.decode("attempt"),
                       maxAttempts: try r.decode("max_attempts"),
                       previousError: try r.decodeIfPresent("error_code", as: String.self).map { ($0, try r.decodeIfPresent("error_message") ?? "") },
                       uploadID: try r.decodeIfPresent("upload_id"), declaredSHA256: try r.decodeIfPresent("declared_sha256"),
                       inputBytes: try r.decode("input_bytes"), traceContext: try r.decodeIfPresent("trace_context"))
        }
    }

    /// Takes a claimed job's lock again after a reconnect; false when another session has it.
    public func jobRelock(_ job: ClaimedJob) throws -> Bool {
        try query("SELECT pg_try_advisory_lock(\(LockClass.job), hashtext(\(job.id.uuidString.lowercased()))) AS ok")
            .first?.decode("ok") == true
    }

    /// Gives up this session's locks on jobs it no longer converts: only after the statement that
    /// fenced them has committed.
    public func jobUnlock(_ jobs: [ClaimedJob]) throws {
        guard !jobs.isEmpty else { return }
        let ids = "{" + jobs.map { $0.id.uuidString.lowercased() }.joined(separator: ",") + "}"
        try query("SELECT pg_advisory_unlock(\(LockClass.job), hashtext(x)) AS unlocked FROM unnest(\(ids)::text[]) AS x")
    }

    /// Gives claimed jobs that were not started back to the queue, as if never claimed (the
    /// caller unlocks them afterwards).
    public func jobRelease(_ jobs: [ClaimedJob]) throws {
        guard !jobs.isEmpty else { return }
        let list = "[" + jobs.map { "{\"id\": \"\($0.id.uuidString.lowercased())\", \"attempt\": \($0.attempt)}" }.joined(separator: ",") + "]"
        try query("""
            UPDATE jobs j SET status = \(JobStatus.pending), attempt = j.attempt - 1, lease_until = NULL, locked_by = NULL,
                   started_at = NULL, step = NULL
            FROM jsonb_to_recordset(\(list)::jsonb) AS x(id uuid, attempt int)
            WHERE j.id = x.id AND j.status = \(JobStatus.processing) AND j.attempt = x.attempt
            """)
    }

    /// Renews the lease; false when the job is no longer ours (deleted or rescued).
    public func jobHeartbeat(_ job: ClaimedJob, leaseSeconds: Double) throws -> Bool {
        try query("""
            UPDATE jobs SET lease_until = now() + make_interval(secs => \(leaseSeconds))
            WHERE id = \(job.id) AND status = \(JobStatus.processing) AND attempt = \(job.attempt)
            """).affectedRows == 1
    }

    /// Records progress (the notify trigger sends `job_progress`; the runner throttles calls);
    /// false when the job is no longer ours (canceled, deleted or rescued).
    @discardableResult
    public func jobProgress(_ job: ClaimedJob, percent: Int, step: String) throws -> Bool {
        try query("""
            UPDATE jobs SET progress = \(percent), step = \(step)
            WHERE id = \(job.id) AND status = \(JobStatus.processing) AND attempt = \(job.attempt)
            """).affectedRows == 1
    }

    /// Marks jobs done with their outputs, each once, and charges the output bytes to their
    /// clients' quota, in one transaction: the jobs' rows first, then the clients' rows locked in
    /// id order (two runners finishing jobs of the same clients wait for each other instead of
    /// deadlocking — the order fcgi-app's delete takes them too: job, then client). Returns the ids
    /// that are done by these attempts — still ours, or already done by this same finish whose
    /// answer a lost connection swallowed (the runner then re-ran it). A job deleted or taken over
    /// meanwhile is left alone. Throws SQLSTATE 23514 when an output would put its client over
    /// quota (the whole transaction is then undone).
    public func jobFinish(_ items: [FinishedJob]) throws -> Set<UUID> {
        guard !items.isEmpty else { return [] }
        let list = "[" + items.map(\.json).joined(separator: ",") + "]"
        let mine: Set<UUID> = try transaction {
            let done = try query("""
                UPDATE jobs j SET status = \(JobStatus.done), output_path = x.output_path, output_bytes = x.output_bytes,
                       warnings = x.warnings, metadata = x.metadata, progress = 100, step = 'done',
                       processed_at = now(), lease_until = NULL, error_code = NULL, error_message = NULL
                FROM jsonb_to_recordset(\(list)::jsonb)
                     AS x(id uuid, attempt int, output_path text, output_bytes bigint, warnings jsonb, metadata jsonb)
                WHERE j.id = x.id AND j.status = \(JobStatus.processing) AND j.attempt = x.attempt
                RETURNING j.id, j.client_id, j.output_bytes
                """).rows
            var perClient: [UUID: Int64] = [:]
            for r in done { perClient[try r.decode("client_id"), default: 0] += try r.decode("output_bytes", as: Int64.self) }
            if !perClient.isEmpty {
                let ids = "{" + perClient.keys.map { $0.uuidString.lowercased() }.joined(separator: ",") + "}"
                let charges = "[" + perClient.map { "{\"id\": \"\($0.key.uuidString.lowercased())\", \"bytes\": \($0.value)}" }
                    .joined(separator: ",") + "]"
                try query("SELECT id FROM clients WHERE id = ANY(\(ids)::uuid[]) ORDER BY id FOR UPDATE")
                try query("""
                    UPDATE clients c SET bytes_used = c.bytes_used + x.bytes
                    FROM jsonb_to_recordset(\(charges)::jsonb) AS x(id uuid, bytes bigint) WHERE c.id = x.id
                    """)
            }
            return Set(try done.map { try $0.decode("id") })
        }
        guard mine.count < items.count else { return mine }
        let earlier = try query("""
            SELECT j.id FROM jobs j
            JOIN jsonb_to_recordset(\(list)::jsonb) AS x(id uuid, attempt int, output_path text) ON j.id = x.id
            WHERE j.status = \(JobStatus.done) AND j.attempt = x.attempt AND j.output_path = x.output_path
            """).rows.map { try $0.decode("id", as: UUID.self) }
        return mine.union(earlier)
    }

    /// Records a failed attempt: back to PENDING after a backoff when `retry` and attempts remain,
    /// else FAILED with the reason. False when the job was no longer ours.
    @discardableResult
    public func jobFail(_ job: ClaimedJob, code: String, message: String, retry: Bool,
                        backoffSeconds: Double) throws -> Bool {
        try query("""
            UPDATE jobs SET
                status = CASE WHEN \(retry) AND attempt < max_attempts THEN \(JobStatus.pending) ELSE \(JobStatus.failed) END,
                run_after = now() + make_interval(secs => \(backoffSeconds)::float8 * attempt),
                error_code = \(code), error_message = \(message), lease_until = NULL, step = NULL,
                processed_at = CASE WHEN \(retry) AND attempt < max_attempts THEN NULL ELSE now() END
            WHERE id = \(job.id) AND status = \(JobStatus.processing) AND attempt = \(job.attempt)
            """).affectedRows == 1
    }

    /// Puts back (or fails, after max_attempts) processing jobs whose runner is gone or stalled:
    /// its lease ran out, or its session's lock on the job is free and it has missed a heartbeat
    /// (runners renew every third of the lease, so a lease with less than half left was not
    /// renewed for longer than that). A server (re)start counts as renewing every lease: runners
    /// reconnect, take their locks back and renew within a heartbeat. A job whose owner renews its
    /// lease is never taken, whatever its lock says. Must not run while this connection holds a
    /// job's lock (a session's own lock looks free to it).
    public func jobRescue(backoffSeconds: Double, leaseSeconds: Double, limit: Int = 100) throws -> Int {
        try transaction {
            try query("""
                WITH dead AS (
                    SELECT id FROM jobs
                    WHERE status = \(JobStatus.processing)
                      AND (greatest(lease_until, pg_postmaster_start_time() + make_interval(secs => \(leaseSeconds))) < now()
                           OR (greatest(lease_until, pg_postmaster_start_time() + make_interval(secs => \(leaseSeconds)))
                                   < now() + make_interval(secs => \(leaseSeconds / 2))
                               AND pg_try_advisory_xact_lock(\(LockClass.job), hashtext(id::text))))
                    FOR UPDATE SKIP LOCKED
                    LIMIT \(limit)
                )
                UPDATE jobs j SET
                    status = CASE WHEN j.attempt < j.max_attempts THEN \(JobStatus.pending) ELSE \(JobStatus.failed) END,
                    run_after = now() + make_interval(secs => \(backoffSeconds)::float8 * j.attempt),
                    error_code = 'runner_lost',
                    error_message = CASE WHEN j.attempt < j.max_attempts
                        THEN 'Attempt ' || j.attempt || ' of ' || j.max_attempts || ' stopped: its runner died or stopped answering (crash, kill or memory limit); the job will be retried.'
                        ELSE 'Gave up after ' || j.attempt || ' attempts: the runner died or stopped answering during the conversion each time (crash, kill or memory limit).' END,
                    lease_until = NULL, step = NULL,
                    processed_at = CASE WHEN j.attempt < j.max_attempts THEN NULL ELSE now() END
                FROM dead WHERE j.id = dead.id
                """).affectedRows
        }
    }

    /// The input and output paths of one client's jobs (for the orphan sweep, a folder at a time).
    /// A canceled job holds no input (its own was removed; an upload's is the upload's).
    public func jobPaths(client: String) throws -> Set<String> {
        var out = Set<String>()
        for r in try query("""
            SELECT CASE WHEN status <> \(JobStatus.canceled) THEN input_path END AS input_path, output_path
            FROM jobs WHERE client_id = \(client)::uuid
            UNION ALL SELECT input_path, NULL FROM uploads WHERE client_id = \(client)::uuid
            """).rows {
            if let p: String = try r.decodeIfPresent("input_path") { out.insert(p) }
            if let p: String = try r.decodeIfPresent("output_path") { out.insert(p) }
        }
        return out
    }
}
