import DocFlowCore
import DocFlowStore
import Foundation

/// The real PostgreSQL the store and runner unit tests use: `DOCFLOW_TEST_DATABASE`, a libpq
/// connection string to a database the tests may write (`scripts/test` creates `docflow_unit` on
/// its private cluster and sets it; the suites that need it are disabled without it, and
/// `scripts/test` checks that they ran). Each suite gets a schema of its own with the migrations
/// applied, so suites run in parallel without seeing each other's rows.
public enum TestDatabase {
    public static let conninfo = ProcessInfo.processInfo.environment["DOCFLOW_TEST_DATABASE"]
    public static var available: Bool { conninfo != nil }

    /// A new schema with every migration applied; the connection string that works in it.
    public static func freshSchema() throws -> String {
        guard let conninfo else { throw StoreError(.setup, "DOCFLOW_TEST_DATABASE is not set") }
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try PGConnection(conninfo).execute("CREATE SCHEMA \(name)")
        let scoped = conninfo + " options='-c search_path=\(name)'"
        try Migrator.migrate(try PGConnection(scoped))
        return scoped
    }

    /// A client with `quota` bytes and `jobs` pending jobs (inputs of `inputBytes` each), created
    /// in order a millisecond apart; the jobs' ids in that order.
    @discardableResult
    public static func seed(_ db: PGConnection, client: UUID = UUID(), quota: Int64 = 1_000_000, jobs: Int,
                            inputBytes: Int64 = 10, priority: Int = 5, maxAttempts: Int = 3) throws -> (client: UUID, jobs: [UUID]) {
        try db.clientCreate(client, quota: quota, ttlSeconds: 3600)
        var ids: [UUID] = []
        for _ in 0..<jobs {
            let id = UUID()
            _ = try db.jobInsert(NewJob(id: id, clientID: client, inputFilename: "a.csv", inputFormat: "csv",
                                        inputPath: Storage.inputPath(client: client, job: id, ext: "csv"), inputBytes: inputBytes,
                                        inputSHA256: String(repeating: "0", count: 64), outputFormat: "json", optionsJSON: "{}",
                                        priority: priority, maxAttempts: maxAttempts, idempotencyKey: nil))
            ids.append(id)
        }
        return (client, ids)
    }
}
