/// Applies the numbered migrations embedded in the binary (`Migrations/m000N_*.sql`), each in its
/// own transaction, recorded in `schema_migrations`, under an advisory lock so two processes
/// starting together do not race. Forward only.
public enum Migrator {
    /// (version, name, sql), in order.
    public static let migrations: [(Int, String, String)] = [
        (1, "schema", String(decoding: PackageResources.m0001_schema_sql, as: UTF8.self)),
        (2, "events", String(decoding: PackageResources.m0002_events_sql, as: UTF8.self)),
        (3, "claim_order", String(decoding: PackageResources.m0003_claim_order_sql, as: UTF8.self)),
        (4, "uploads", String(decoding: PackageResources.m0004_uploads_sql, as: UTF8.self)),
        (5, "history", String(decoding: PackageResources.m0005_history_sql, as: UTF8.self)),
        (6, "webhooks", String(decoding: PackageResources.m0006_webhooks_sql, as: UTF8.self)),
        (7, "traces", String(decoding: PackageResources.m0007_traces_sql, as: UTF8.self)),
        (8, "idempotency", String(decoding: PackageResources.m0008_idempotency_sql, as: UTF8.self)),
        (9, "output_filename", String(decoding: PackageResources.m0009_output_filename_sql, as: UTF8.self)),
        (10, "extract_filename", String(decoding: PackageResources.m0010_extract_filename_sql, as: UTF8.self)),
    ]

    /// Applies what is missing; returns the versions applied now.
    @discardableResult
    public static func migrate(_ db: PGConnection) throws -> [Int] {
        try db.query("SELECT pg_advisory_lock(\(LockClass.migrations), 1)")
        defer { _ = try? db.query("SELECT pg_advisory_unlock(\(LockClass.migrations), 1)") }
        try db.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """)
        let done = Set(try db.query("SELECT version FROM schema_migrations").rows.map { try $0.decode("version", as: Int.self) })
        var applied: [Int] = []
        for (version, name, sql) in migrations where !done.contains(version) {
            try db.transaction {
                try db.execute(sql)
                try db.query("INSERT INTO schema_migrations (version, name) VALUES (\(version), \(name))")
            }
            applied.append(version)
        }
        return applied
    }
}
