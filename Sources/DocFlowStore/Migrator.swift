/// Applies the numbered migrations embedded in the binary (`Migrations/m000N_*.sql`), each in its
/// own transaction, recorded in `schema_migrations`, under an advisory lock so two processes
/// starting together do not race. Forward only.
public enum Migrator {
    /// (version, name, sql), in order.
    public static let migrations: [(Int, String, String)] = [
        (1, "schema", String(decoding: PackageResources.m0001_schema_sql, as: UTF8.self)),
        (2, "events", String(decoding: PackageResources.m0002_events_sql, as: UTF8.self)),
    ]

    /// Applies what is missing; returns the versions applied now.
    @discardableResult
    public static func migrate(_ db: PGConnection) throws -> [Int] {
        try db.execute("SELECT pg_advisory_lock(7000, 1)")
        defer { _ = try? db.execute("SELECT pg_advisory_unlock(7000, 1)") }
        try db.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """)
        let done = Set(try db.query("SELECT version FROM schema_migrations").rows.compactMap { $0.int("version") })
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
