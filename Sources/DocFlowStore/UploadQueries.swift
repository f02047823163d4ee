import DocFlowCore
import Foundation

/// A direct upload's row.
public struct UploadRow: Sendable {
    public var id: UUID
    public var clientID: UUID
    public var stored: Bool
    public var filename: String
    public var inputFormat: String
    public var inputPath: String
    public var declaredBytes: Int64
    public var sha256: String?
    /// A reserved slot past its expiry (no longer accepts a file).
    public var expired: Bool
    /// Whether the nginx token of the local backend matches (false when none was given).
    public var tokenMatches: Bool
    public var json: String

    init(_ r: Row) throws {
        id = try r.decode("id"); clientID = try r.decode("client_id")
        stored = try r.decode("status", as: String.self) == "STORED"
        filename = try r.decode("filename"); inputFormat = try r.decode("input_format")
        inputPath = try r.decode("input_path"); declaredBytes = try r.decode("declared_bytes")
        sha256 = try r.decodeIfPresent("sha256"); expired = try r.decode("expired")
        tokenMatches = try r.decode("token_matches")
        json = try r.decode("body")
    }
}

/// Queries on `uploads` (direct uploads). Every one the web layer uses is scoped by client_id.
extension PGConnection {
    private static let uploadColumns: StaticString = """
        u.id, u.client_id, u.status::text AS status, u.filename, u.input_format, u.input_path, u.declared_bytes, u.sha256,
        (u.status = 'RESERVED' AND u.expires_at <= now()) AS expired, docflow_upload_json(u)::text AS body
        """

    /// Reserves a slot: its declared bytes are charged now (SQLSTATE 23514 past the quota). It
    /// expires after `ttlSeconds`, or with its client if that comes first. `tokenSHA256` guards the
    /// local backend's nginx location.
    public func uploadCreate(id: UUID, client: UUID, filename: String, inputFormat: String, inputPath: String, bytes: Int64,
                             contentType: String?, sha256: String?, tokenSHA256: String?, ttlSeconds: Int) throws -> UploadRow {
        let r = try query("""
            WITH u AS (
                INSERT INTO uploads (id, client_id, filename, input_format, input_path, declared_bytes, content_type, sha256, token_sha256, expires_at)
                SELECT \(id), c.id, \(filename), \(inputFormat), \(inputPath), \(bytes), \(contentType), \(sha256), \(tokenSHA256),
                       least(now() + make_interval(secs => \(ttlSeconds)), c.expires_at)
                FROM clients c WHERE c.id = \(client)
                RETURNING *
            )
            SELECT \(sql: Self.uploadColumns), false AS token_matches FROM u
            """)
        guard let row = r.first else { throw StoreError(.query, "The client does not exist.", sqlState: SQLState.foreignKeyViolation) }
        return try UploadRow(row)
    }

    /// The client's upload, or nil; `token` is compared (as its SHA-256) when given.
    public func uploadFind(client: UUID, id: UUID, tokenSHA256: String? = nil) throws -> UploadRow? {
        try query("""
            SELECT \(sql: Self.uploadColumns), coalesce(u.token_sha256 = \(tokenSHA256), false) AS token_matches
            FROM uploads u WHERE u.id = \(id) AND u.client_id = \(client)
            """).first.map(UploadRow.init)
    }

    /// Marks a reserved, unexpired slot stored: from now on it lives as long as its client. False
    /// when it was not reserved or has expired.
    @discardableResult
    public func uploadMarkStored(client: UUID, id: UUID) throws -> Bool {
        try query("""
            UPDATE uploads u SET status = 'STORED', stored_at = now(), expires_at = c.expires_at
            FROM clients c WHERE u.id = \(id) AND u.client_id = \(client) AND c.id = u.client_id
              AND u.status = 'RESERVED' AND u.expires_at > now()
            """).affectedRows == 1
    }

    /// Deletes the client's upload (its bytes are freed; its jobs keep their own outputs).
    public func uploadDelete(client: UUID, id: UUID) throws -> UploadRow? {
        try query("""
            WITH u AS (DELETE FROM uploads WHERE id = \(id) AND client_id = \(client) RETURNING *)
            SELECT \(sql: Self.uploadColumns), false AS token_matches FROM u
            """).first.map(UploadRow.init)
    }

    /// Deletes an upload whatever its client (the runner, on a SHA-256 mismatch); its key, or nil.
    public func uploadRelease(_ id: UUID) throws -> String? {
        try query("DELETE FROM uploads WHERE id = \(id) RETURNING input_path").first?.decode("input_path")
    }

    /// Reserved slots past their expiry (never finished or never used), oldest first.
    public func uploadsExpired(limit: Int) throws -> [(id: UUID, key: String)] {
        try query("""
            SELECT id, input_path FROM uploads WHERE status = 'RESERVED' AND expires_at <= now()
            ORDER BY expires_at LIMIT \(limit)
            """).rows.map { (try $0.decode("id"), try $0.decode("input_path")) }
    }

    /// Deletes expired reserved slots (after the caller removed their objects); how many went.
    public func uploadsDelete(_ ids: [UUID]) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let list = "{" + ids.map { $0.uuidString.lowercased() }.joined(separator: ",") + "}"
        return try query("DELETE FROM uploads WHERE id = ANY(\(list)::uuid[]) AND status = 'RESERVED' AND expires_at <= now()").affectedRows
    }
}
