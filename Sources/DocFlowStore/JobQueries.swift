import DocFlowCore
import Foundation

/// What a new job row needs.
public struct NewJob: Sendable {
    public var id: UUID
    public var clientID: UUID
    public var inputFilename: String
    public var inputFormat: String
    public var inputPath: String
    public var inputBytes: Int64
    /// Known for uploads through fcgi-app (it hashes them); for direct uploads only when declared.
    public var inputSHA256: String?
    public var outputFormat: String
    public var optionsJSON: String
    public var priority: Int
    public var maxAttempts: Int
    public var idempotencyKey: String?
    /// The direct upload the job is made from (its input is that upload's object, charged there).
    public var uploadID: UUID?
    /// Called when the job ends (a checked http(s) URL), else the client's default if any.
    public var callbackURL: String? = nil
    /// The W3C traceparent of the span that made the job (nil when tracing is off).
    public var traceContext: String? = nil

    public init(id: UUID, clientID: UUID, inputFilename: String, inputFormat: String, inputPath: String,
                inputBytes: Int64, inputSHA256: String?, outputFormat: String, optionsJSON: String,
                priority: Int, maxAttempts: Int, idempotencyKey: String?, uploadID: UUID? = nil) {
        self.uploadID = uploadID
        self.id = id; self.clientID = clientID; self.inputFilename = inputFilename; self.inputFormat = inputFormat
        self.inputPath = inputPath; self.inputBytes = inputBytes; self.inputSHA256 = inputSHA256
        self.outputFormat = outputFormat; self.optionsJSON = optionsJSON; self.priority = priority
        self.maxAttempts = maxAttempts; self.idempotencyKey = idempotencyKey
    }
}

/// The files and state of a job, for downloads and deletion.
public struct JobFiles: Sendable {
    public var status: JobStatus
    public var inputFilename: String
    public var inputPath: String
    public var outputPath: String?
    public var outputFormat: String
    /// Set when the input belongs to a direct upload (shared by its jobs: not the job's to delete).
    public var uploadID: UUID?

    init(_ r: Row) throws {
        uploadID = try r.decodeIfPresent("upload_id")
        status = try r.decode("status")
        inputFilename = try r.decode("input_filename")
        inputPath = try r.decode("input_path")
        outputPath = try r.decodeIfPresent("output_path")
        outputFormat = try r.decode("output_format")
    }
}

/// Queries on `jobs` used by the web layer. Every one is scoped by client_id.
extension PGConnection {
    /// Inserts a job; the quota trigger charges its input bytes or fails with SQLSTATE 23514.
    /// Returns the job as JSON text.
    public func jobInsert(_ j: NewJob, expiresWithClient: Bool = true) throws -> String {
        let r = try query("""
            INSERT INTO jobs (id, client_id, input_filename, input_format, input_path, input_bytes, input_sha256,
                              output_format, options, priority, max_attempts, idempotency_key, expires_at, upload_id, input_owned,
                              callback_url, trace_context, request_fingerprint)
            SELECT \(j.id), \(j.clientID), \(j.inputFilename), \(j.inputFormat), \(j.inputPath), \(j.inputBytes),
                   \(j.inputSHA256), \(j.outputFormat), \(j.optionsJSON)::jsonb, \(j.priority), \(j.maxAttempts),
                   \(j.idempotencyKey), c.expires_at, \(j.uploadID), \(j.uploadID == nil), \(j.callbackURL),
                   \(j.traceContext),
                   CASE WHEN \(j.idempotencyKey)::text IS NOT NULL THEN
                       docflow_request_fingerprint(\(j.inputSHA256), \(j.inputFilename), \(j.outputFormat),
                                                   \(j.optionsJSON)::jsonb, \(j.priority), \(j.callbackURL)) END
            FROM clients c WHERE c.id = \(j.clientID)
            RETURNING docflow_job_json(jobs.*)::text AS body
            """)
        guard let body: String = try r.first?.decode("body") else {
            throw StoreError(.query, "The client does not exist.", sqlState: SQLState.foreignKeyViolation)
        }
        return body
    }

    /// A job of this client as JSON text, or nil (unknown or another client's).
    public func jobFindJSON(client: UUID, id: UUID) throws -> String? {
        try query("SELECT docflow_job_json(j)::text AS body FROM jobs j WHERE id = \(id) AND client_id = \(client)")
            .first?.decode("body")
    }

    /// Whether this client has a job made with this Idempotency-Key.
    public func jobIdempotencyKeyUsed(client: UUID, key: String) throws -> Bool {
        try !query("SELECT 1 AS one FROM jobs WHERE client_id = \(client) AND idempotency_key = \(key)").rows.isEmpty
    }

    /// The job made earlier with this Idempotency-Key (JSON text), and whether the request that
    /// made it is this one (`NewJob`'s file, name, target, options, priority and callback URL:
    /// migration m0008). Nil when the client has no job with this key.
    public func jobIdempotentReplay(_ j: NewJob, key: String) throws -> (json: String, same: Bool)? {
        guard let r = try query("""
            SELECT docflow_job_json(j)::text AS body,
                   coalesce(j.request_fingerprint = docflow_request_fingerprint(
                       \(j.inputSHA256), \(j.inputFilename), \(j.outputFormat), \(j.optionsJSON)::jsonb, \(j.priority), \(j.callbackURL)),
                       true) AS same
            FROM jobs j WHERE j.client_id = \(j.clientID) AND j.idempotency_key = \(key)
            """).first else { return nil }
        return (try r.decode("body"), try r.decode("same"))
    }

    /// Files and state of a job of this client.
    public func jobFiles(client: UUID, id: UUID) throws -> JobFiles? {
        guard let r = try query("""
            SELECT status::text AS status, input_filename, input_path, output_path, output_format, upload_id
            FROM jobs WHERE id = \(id) AND client_id = \(client)
            """).first else { return nil }
        return try JobFiles(r)
    }

    /// A page of this client's jobs as JSON texts, with the cursor of the last one.
    public func jobList(client: UUID, status: JobStatus?, limit: Int, ascending: Bool,
                        after cursor: (created: String, id: UUID)?) throws -> (jobs: [String], next: String?) {
        let q: Query
        let cursorTime = cursor?.created
        let cursorID = cursor?.id
        if ascending {
            q = """
                SELECT docflow_job_json(j)::text AS body, to_char(created_at, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts, id
                FROM jobs j WHERE client_id = \(client) AND (\(status)::job_status IS NULL OR status = \(status)::job_status)
                  AND (\(cursorTime)::timestamptz IS NULL OR (created_at, id) > (\(cursorTime)::timestamptz, \(cursorID)::uuid))
                ORDER BY created_at, id LIMIT \(limit + 1)
                """
        } else {
            q = """
                SELECT docflow_job_json(j)::text AS body, to_char(created_at, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts, id
                FROM jobs j WHERE client_id = \(client) AND (\(status)::job_status IS NULL OR status = \(status)::job_status)
                  AND (\(cursorTime)::timestamptz IS NULL OR (created_at, id) < (\(cursorTime)::timestamptz, \(cursorID)::uuid))
                ORDER BY created_at DESC, id DESC LIMIT \(limit + 1)
                """
        }
        let rows = try query(q).rows
        let page = rows.prefix(limit)
        let next = try rows.count > limit ? page.last.map { "\(try $0.decode("ts", as: String.self))_\(try $0.decode("id", as: String.self))" } : nil
        return (try page.map { try $0.decode("body") }, next)
    }

    /// Deletes a job of this client in any state (a running conversion's fenced finish then
    /// finds nothing and discards its output). Returns its files for removal, or nil.
    public func jobDelete(client: UUID, id: UUID) throws -> JobFiles? {
        guard let r = try query("""
            DELETE FROM jobs WHERE id = \(id) AND client_id = \(client)
            RETURNING status::text AS status, input_filename, input_path, output_path, output_format, upload_id
            """).first else { return nil }
        return try JobFiles(r)
    }

    /// Changes the priority of a pending job. Returns the job JSON, or nil when the job is not
    /// pending (the caller tells 404 from 409 with `jobFindJSON`).
    public func jobUpdatePriority(client: UUID, id: UUID, priority: Int) throws -> String? {
        try query("""
            UPDATE jobs SET priority = \(priority) WHERE id = \(id) AND client_id = \(client) AND status = \(JobStatus.pending)
            RETURNING docflow_job_json(jobs.*)::text AS body
            """).first?.decode("body")
    }

    /// Puts a failed job back in the queue with fresh attempts. Nil when it is not FAILED.
    public func jobRetry(client: UUID, id: UUID, optionsJSON: String? = nil, priority: Int? = nil) throws -> String? {
        try query("""
            UPDATE jobs SET status = \(JobStatus.pending), attempt = 0, run_after = now(), error_code = NULL,
                   error_message = NULL, progress = 0, step = NULL, processed_at = NULL, started_at = NULL,
                   options = coalesce(\(optionsJSON)::jsonb, options), priority = coalesce(\(priority)::int, priority)
            WHERE id = \(id) AND client_id = \(client) AND status = \(JobStatus.failed)
            RETURNING docflow_job_json(jobs.*)::text AS body
            """).first?.decode("body")
    }

    /// Cancels a pending or processing job of this client, keeping its record: CANCELED, and the
    /// bytes of its own input given back in the same transaction (`input_owned` becomes false: the
    /// row no longer holds them, so its eventual delete frees nothing twice). Lock order as the
    /// delete's: the job, then the client. A runner converting it finds out at its next fenced
    /// write (progress or heartbeat) and stops. Returns the job's JSON and the input to remove
    /// (nil when the input is a direct upload's); nil when no such job is pending or processing.
    public func jobCancel(client: UUID, id: UUID) throws -> (json: String, inputPath: String?)? {
        try transaction {
            guard let r = try query("""
                WITH old AS (
                    SELECT id, input_owned, input_bytes FROM jobs
                    WHERE id = \(id) AND client_id = \(client) AND status IN (\(JobStatus.pending), \(JobStatus.processing))
                    FOR UPDATE
                )
                UPDATE jobs j SET status = \(JobStatus.canceled), input_owned = false, lease_until = NULL, locked_by = NULL,
                       processed_at = now(), step = NULL
                FROM old WHERE j.id = old.id
                RETURNING docflow_job_json(j.*)::text AS body, CASE WHEN old.input_owned THEN j.input_path END AS input_path,
                          CASE WHEN old.input_owned THEN old.input_bytes ELSE 0 END AS freed
                """).first else { return nil }
            let freed: Int64 = try r.decode("freed")
            if freed > 0 { try query("UPDATE clients SET bytes_used = bytes_used - \(freed) WHERE id = \(client)") }
            return (try r.decode("body"), try r.decodeIfPresent("input_path"))
        }
    }

    /// The client's done jobs (these ids, or all of them), oldest first, at most `limit`: their
    /// ids and files (for an archive of their outputs).
    public func jobOutputs(client: UUID, ids: [UUID]?, limit: Int) throws -> [(id: UUID, files: JobFiles)] {
        let list = ids.map { "{" + $0.map { $0.uuidString.lowercased() }.joined(separator: ",") + "}" }
        return try query("""
            SELECT id, status::text AS status, input_filename, input_path, output_path, output_format, upload_id
            FROM jobs WHERE client_id = \(client) AND status = \(JobStatus.done)
              AND (\(list)::uuid[] IS NULL OR id = ANY(\(list)::uuid[]))
            ORDER BY created_at, id LIMIT \(limit)
            """).rows.map { (try $0.decode("id"), try JobFiles($0)) }
    }

    /// A job's status, or nil (unknown or another client's).
    public func jobStatus(client: UUID, id: UUID) throws -> JobStatus? {
        try query("SELECT status FROM jobs WHERE id = \(id) AND client_id = \(client)").first?.decode("status")
    }

    /// A job's input and output formats (its conversion pair), or nil (unknown or another client's).
    public func jobPair(client: UUID, id: UUID) throws -> (input: String, output: String)? {
        guard let r = try query("SELECT input_format, output_format FROM jobs WHERE id = \(id) AND client_id = \(client)").first
        else { return nil }
        return (try r.decode("input_format"), try r.decode("output_format"))
    }

    /// Jobs not yet ended (pending or processing), in the whole queue.
    public func jobsUnfinishedCount() throws -> Int {
        try query("SELECT count(*) AS n FROM jobs WHERE status IN (\(JobStatus.pending), \(JobStatus.processing))").first?.decode("n") ?? 0
    }

    /// Jobs by status (every state, zero included) and the age of the oldest pending job, for `/metrics`.
    public func jobCountsByStatus() throws -> (counts: [(JobStatus, Int)], oldestPendingSeconds: Double) {
        let rows = try query("""
            SELECT e.s::text AS status, count(j.id) AS n FROM unnest(enum_range(NULL::job_status)) AS e(s)
            LEFT JOIN jobs j ON j.status = e.s GROUP BY e.s ORDER BY e.s
            """).rows
        let counts = try rows.map { (try $0.decode("status", as: JobStatus.self), try $0.decode("n", as: Int.self)) }
        let age: Double = try query("""
            SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age FROM jobs WHERE status = \(JobStatus.pending)
            """).first?.decode("age") ?? 0
        return (counts, age)
    }

    /// Counts by status, average processing time over the last hour and the oldest pending age.
    public func queueStatsJSON() throws -> String {
        try query("""
            SELECT json_build_object(
                'counts', (SELECT coalesce(json_object_agg(s, n), '{}') FROM
                    (SELECT e.s::text AS s, count(j.id) AS n FROM unnest(enum_range(NULL::job_status)) AS e(s)
                     LEFT JOIN jobs j ON j.status = e.s GROUP BY e.s) t),
                'avg_processing_seconds', (SELECT round(extract(epoch FROM avg(processed_at - started_at))::numeric, 4)
                    FROM jobs WHERE status = \(JobStatus.done) AND processed_at > now() - interval '1 hour'),
                'oldest_pending_seconds', (SELECT round(extract(epoch FROM now() - min(created_at))::numeric, 3)
                    FROM jobs WHERE status = \(JobStatus.pending)),
                'runners_active', (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = \(LockClass.runnerSlot)::int::oid AND granted)
            )::text AS body
            """).first?.decode("body") ?? "{}"
    }
}
