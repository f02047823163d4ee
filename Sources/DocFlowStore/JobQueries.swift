import Foundation

/// What a new job row needs.
public struct NewJob: Sendable {
    public var id: UUID
    public var clientID: UUID
    public var inputFilename: String
    public var inputFormat: String
    public var inputPath: String
    public var inputBytes: Int64
    public var inputSHA256: String
    public var outputFormat: String
    public var optionsJSON: String
    public var priority: Int
    public var maxAttempts: Int
    public var idempotencyKey: String?

    public init(id: UUID, clientID: UUID, inputFilename: String, inputFormat: String, inputPath: String,
                inputBytes: Int64, inputSHA256: String, outputFormat: String, optionsJSON: String,
                priority: Int, maxAttempts: Int, idempotencyKey: String?) {
        self.id = id; self.clientID = clientID; self.inputFilename = inputFilename; self.inputFormat = inputFormat
        self.inputPath = inputPath; self.inputBytes = inputBytes; self.inputSHA256 = inputSHA256
        self.outputFormat = outputFormat; self.optionsJSON = optionsJSON; self.priority = priority
        self.maxAttempts = maxAttempts; self.idempotencyKey = idempotencyKey
    }
}

/// The files and state of a job, for downloads and deletion.
public struct JobFiles: Sendable {
    public var status: String
    public var inputFilename: String
    public var inputPath: String
    public var outputPath: String?
    public var outputFormat: String
}

/// Queries on `jobs` used by the web layer. Every one is scoped by client_id.
extension PGConnection {
    /// Inserts a job; the quota trigger charges its input bytes or fails with SQLSTATE 23514.
    /// Returns the job as JSON text.
    public func jobInsert(_ j: NewJob, expiresWithClient: Bool = true) throws -> String {
        let r = try query("""
            INSERT INTO jobs (id, client_id, input_filename, input_format, input_path, input_bytes, input_sha256,
                              output_format, options, priority, max_attempts, idempotency_key, expires_at)
            SELECT \(j.id), \(j.clientID), \(j.inputFilename), \(j.inputFormat), \(j.inputPath), \(j.inputBytes),
                   \(j.inputSHA256), \(j.outputFormat), \(j.optionsJSON)::jsonb, \(j.priority), \(j.maxAttempts),
                   \(j.idempotencyKey), c.expires_at
            FROM clients c WHERE c.id = \(j.clientID)
            RETURNING docflow_job_json(jobs.*)::text AS body
            """)
        guard let body = r.first?.string("body") else {
            throw StoreError(.query, "The client does not exist.", sqlState: SQLState.foreignKeyViolation)
        }
        return body
    }

    /// A job of this client as JSON text, or nil (unknown or another client's).
    public func jobFindJSON(client: UUID, id: UUID) throws -> String? {
        try query("SELECT docflow_job_json(j)::text AS body FROM jobs j WHERE id = \(id) AND client_id = \(client)")
            .first?.string("body")
    }

    /// The job created earlier with the same Idempotency-Key, as JSON text.
    public func jobFindByIdempotencyKey(client: UUID, key: String) throws -> String? {
        try query("""
            SELECT docflow_job_json(j)::text AS body FROM jobs j
            WHERE client_id = \(client) AND idempotency_key = \(key)
            """).first?.string("body")
    }

    /// Files and state of a job of this client.
    public func jobFiles(client: UUID, id: UUID) throws -> JobFiles? {
        guard let r = try query("""
            SELECT status::text AS status, input_filename, input_path, output_path, output_format
            FROM jobs WHERE id = \(id) AND client_id = \(client)
            """).first else { return nil }
        return JobFiles(status: r.string("status") ?? "", inputFilename: r.string("input_filename") ?? "",
                        inputPath: r.string("input_path") ?? "", outputPath: r.string("output_path"),
                        outputFormat: r.string("output_format") ?? "")
    }

    /// A page of this client's jobs as JSON texts, with the cursor of the last one.
    public func jobList(client: UUID, status: String?, limit: Int, ascending: Bool,
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
        let next = rows.count > limit ? page.last.map { "\($0.string("ts") ?? "")_\($0.string("id") ?? "")" } : nil
        return (page.compactMap { $0.string("body") }, next)
    }

    /// Deletes a job of this client in any state (a running conversion's fenced finish then
    /// finds nothing and discards its output). Returns its files for removal, or nil.
    public func jobDelete(client: UUID, id: UUID) throws -> JobFiles? {
        guard let r = try query("""
            DELETE FROM jobs WHERE id = \(id) AND client_id = \(client)
            RETURNING status::text AS status, input_filename, input_path, output_path, output_format
            """).first else { return nil }
        return JobFiles(status: r.string("status") ?? "", inputFilename: r.string("input_filename") ?? "",
                        inputPath: r.string("input_path") ?? "", outputPath: r.string("output_path"),
                        outputFormat: r.string("output_format") ?? "")
    }

    /// Changes the priority of a pending job. Returns the job JSON, or nil when the job is not
    /// pending (the caller tells 404 from 409 with `jobFindJSON`).
    public func jobUpdatePriority(client: UUID, id: UUID, priority: Int) throws -> String? {
        try query("""
            UPDATE jobs SET priority = \(priority) WHERE id = \(id) AND client_id = \(client) AND status = 'PENDING'
            RETURNING docflow_job_json(jobs.*)::text AS body
            """).first?.string("body")
    }

    /// Puts a failed job back in the queue with fresh attempts. Nil when it is not FAILED.
    public func jobRetry(client: UUID, id: UUID) throws -> String? {
        try query("""
            UPDATE jobs SET status = 'PENDING', attempt = 0, run_after = now(), error_code = NULL,
                   error_message = NULL, progress = 0, step = NULL, processed_at = NULL, started_at = NULL
            WHERE id = \(id) AND client_id = \(client) AND status = 'FAILED'
            RETURNING docflow_job_json(jobs.*)::text AS body
            """).first?.string("body")
    }

    /// Counts by status, average processing time over the last hour and the oldest pending age.
    public func queueStatsJSON() throws -> String {
        try query("""
            SELECT json_build_object(
                'counts', (SELECT coalesce(json_object_agg(s, n), '{}') FROM
                    (SELECT e.s::text AS s, count(j.id) AS n FROM unnest(enum_range(NULL::job_status)) AS e(s)
                     LEFT JOIN jobs j ON j.status = e.s GROUP BY e.s) t),
                'avg_processing_seconds', (SELECT round(extract(epoch FROM avg(processed_at - started_at))::numeric, 4)
                    FROM jobs WHERE status = 'DONE' AND processed_at > now() - interval '1 hour'),
                'oldest_pending_seconds', (SELECT round(extract(epoch FROM now() - min(created_at))::numeric, 3)
                    FROM jobs WHERE status = 'PENDING'),
                'runners_active', (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = \(LockClass.runnerSlot)::int::oid AND granted)
            )::text AS body
            """).first?.string("body") ?? "{}"
    }
}
