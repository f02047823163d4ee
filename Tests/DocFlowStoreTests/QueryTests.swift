import DocFlowCore
import DocFlowStore
import Foundation
import TestDatabase
import Testing

/// The libpq layer: values travel as parameters, rows decode into typed values or throw.
@Suite(.enabled(if: TestDatabase.available, "needs DOCFLOW_TEST_DATABASE (scripts/test sets it)"))
struct QueryTests {
    let db: PGConnection

    init() throws { db = try PGConnection(try TestDatabase.freshSchema()) }

    @Test func interpolatedValuesAreParametersNotSQL() throws {
        let hostile = "x'); DROP TABLE jobs; --"
        let q: Query = "SELECT \(hostile)::text AS v, \(42) AS n, \(JobStatus.done) AS s"
        #expect(q.binds == [hostile, "42"] && q.sql.contains("'DONE'::job_status"))
        let r = try #require(try db.query(q).first)
        #expect(try r.decode("v", as: String.self) == hostile)
        #expect(try r.decode("s", as: JobStatus.self) == .done)
        #expect(try db.query("SELECT count(*) AS n FROM jobs").first?.decode("n", as: Int.self) == 0)
    }

    @Test func rowsDecodeIntoTypesOrThrow() throws {
        let r = try #require(try db.query("SELECT 1 AS one, NULL::text AS nothing, 'x' AS letter, 't'::bool AS yes").first)
        #expect(try r.decode("one", as: Int.self) == 1)
        #expect(try r.decode("yes", as: Bool.self))
        #expect(try r.decodeIfPresent("nothing", as: String.self) == nil)
        #expect(throws: StoreError.self) { try r.decode("nothing", as: String.self) }   // NULL where a value is required
        #expect(throws: StoreError.self) { try r.decode("missing", as: Int.self) }      // no such column
        #expect(throws: StoreError.self) { try r.decode("letter", as: Int.self) }       // not a number
        #expect(throws: StoreError.self) { try r.decode("letter", as: JobStatus.self) } // not a state
    }

    @Test func sqlStatesAreNamed() throws {
        let (client, _) = try TestDatabase.seed(db, quota: 5, jobs: 0)
        do {
            try TestDatabase.seed(db, client: client, quota: 5, jobs: 1, inputBytes: 6)
            Issue.record("an upload past the quota was stored")
        } catch let e as StoreError {
            #expect(e.isCheckViolation && !e.isUniqueViolation && !e.isRaceLost, "\(String(reflecting: e))")
        }
        do {
            try db.query("SELECT 1 / 0 AS x")
            Issue.record("a division by zero went through")
        } catch let e as StoreError {
            #expect(e.isDataException)
        }
    }

    @Test func migrationsAreRecordedAndAppliedOnce() throws {
        #expect(try Migrator.migrate(db).isEmpty)
        let versions: [Int] = try db.query("SELECT version FROM schema_migrations ORDER BY version").rows.map { try $0.decode("version") }
        #expect(versions == Migrator.migrations.map(\.0))
        // The claim's index follows its order (migration 3).
        #expect(try db.query("SELECT 1 AS x FROM pg_indexes WHERE indexname = 'jobs_claim_order' AND schemaname = current_schema()").count == 1)
    }
}
