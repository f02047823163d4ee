import Foundation

/// Queries on `clients`.
extension PGConnection {
    /// Whether the client exists and has not expired.
    public func clientIsLive(_ id: UUID) throws -> Bool {
        try query("SELECT 1 AS ok FROM clients WHERE id = \(id) AND expires_at > now()").count == 1
    }

    /// Creates a client with a quota and a lifetime (no-op if it exists).
    public func clientCreate(_ id: UUID, quota: Int64, ttlSeconds: Int) throws {
        try query("""
            INSERT INTO clients (id, expires_at, bytes_limit)
            VALUES (\(id), now() + make_interval(secs => \(ttlSeconds)), \(quota))
            ON CONFLICT (id) DO NOTHING
            """)
    }

    /// Used bytes, limit and expiry of a client, as JSON text (`GET /api/usage`).
    public func clientUsageJSON(_ id: UUID) throws -> String? {
        try query("""
            SELECT json_build_object('bytes_used', bytes_used, 'bytes_limit', bytes_limit,
                   'created_at', created_at, 'expires_at', expires_at,
                   'jobs', (SELECT count(*) FROM jobs WHERE client_id = c.id))::text AS body
            FROM clients c WHERE id = \(id) AND expires_at > now()
            """).first?.decode("body")
    }

    /// Used bytes and limit (for the 413 body).
    public func clientUsage(_ id: UUID) throws -> (used: Int64, limit: Int64)? {
        guard let r = try query("SELECT bytes_used, bytes_limit FROM clients WHERE id = \(id)").first else { return nil }
        return (try r.decode("bytes_used"), try r.decode("bytes_limit"))
    }

    /// Up to `limit` expired clients, oldest first.
    public func clientsExpired(limit: Int) throws -> [UUID] {
        try query("SELECT id FROM clients WHERE expires_at <= now() ORDER BY expires_at LIMIT \(limit)")
            .rows.map { try $0.decode("id") }
    }

    /// Deletes expired clients (their jobs cascade, announced as `job_expired`), after the caller
    /// removed their files. Idempotent.
    public func clientsDelete(_ ids: [UUID]) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let list = "{" + ids.map { $0.uuidString.lowercased() }.joined(separator: ",") + "}"
        return try transaction {
            try execute("SET LOCAL docflow.delete_reason = 'expired'")
            try query("DELETE FROM jobs WHERE client_id = ANY(\(list)::uuid[])")
            return try query("DELETE FROM clients WHERE id = ANY(\(list)::uuid[]) AND expires_at <= now()").affectedRows
        }
    }

    /// Deletes a client that owns no job and no upload (one created for an upload that failed); true if it went.
    public func clientDeleteIfEmpty(_ id: UUID) throws -> Bool {
        try query("""
            DELETE FROM clients c WHERE c.id = \(id) AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.client_id = c.id)
              AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.client_id = c.id)
            """).affectedRows == 1
    }

    /// Every client id (for the orphan sweep), as lower-case strings.
    public func clientIDs() throws -> Set<String> {
        Set(try query("SELECT id::text AS id FROM clients").rows.map { try $0.decode("id") })
    }
}
