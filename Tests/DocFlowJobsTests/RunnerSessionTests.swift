import DocFlowCore
import DocFlowStore
import Foundation
import Logging
import TestDatabase
import Testing
@testable import DocFlowJobs

/// The runner's database session through faults (README: "Faults"), against a real PostgreSQL:
/// a dropped connection is re-established with the slot, the job locks and the lease taken back;
/// a statement that loses a deadlock is run again; a slot taken meanwhile is noticed.
@Suite(.enabled(if: TestDatabase.available, "needs DOCFLOW_TEST_DATABASE (scripts/test sets it)"), .serialized)
struct RunnerSessionTests {
    let conninfo: String
    let admin: PGConnection
    let logger = Logger(label: "test")

    init() throws {
        conninfo = try TestDatabase.freshSchema()
        admin = try PGConnection(conninfo)
    }

    func session() -> RunnerSession {
        RunnerSession(conninfo: conninfo, logger: logger, giveUpAfter: 10, leaseSeconds: 30)
    }

    func locks(_ lockClass: Int32, _ key: Int) throws -> Int {
        try admin.query("""
            SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = \(lockClass)::int::oid
              AND objid = \(key)::int::oid
            """).first?.decode("n") ?? 0
    }

    /// A job lock's key, as the claim computes it.
    func key(_ id: UUID) throws -> Int { try admin.query("SELECT hashtext(\(id.uuidString.lowercased())) AS h").first!.decode("h") }

    func terminate(_ s: RunnerSession) throws {
        let pid: Int = try s.run { try $0.query("SELECT pg_backend_pid() AS pid").first!.decode("pid") }
        try admin.query("SELECT pg_terminate_backend(\(pid)) AS ok")
        // Its locks go when the backend has exited, not when the signal is sent.
        for _ in 0..<250 where try admin.query("SELECT 1 AS x FROM pg_stat_activity WHERE pid = \(pid)").count > 0 { usleep(20_000) }
    }

    @Test func aDroppedConnectionIsResumedWithTheSlotTheLocksAndTheLease() throws {
        let s = session()
        defer { s.close() }
        let slot = 9_101
        #expect(try s.run { try $0.runnerSlotRetake(slot) })
        s.slot = slot
        let id = try TestDatabase.seed(admin, jobs: 1).jobs[0]
        let job = try #require(try s.run { try $0.jobClaim(leaseSeconds: 30, worker: "t:1") }.first)
        s.hold([job])
        try admin.query("UPDATE jobs SET lease_until = now() + interval '1 second' WHERE id = \(id)")
        try terminate(s)
        // The next statement meets the loss, reconnects, takes everything back, and runs.
        #expect(try s.run { try $0.jobHeartbeat(job, leaseSeconds: 30) })
        #expect(s.reconnects == 1 && !s.slotLost)
        #expect(try locks(LockClass.runnerSlot, slot) == 1)
        #expect(try locks(LockClass.job, key(id)) == 1)
        let left: Double = try #require(try admin.query("SELECT extract(epoch FROM lease_until - now())::float8 AS s FROM jobs WHERE id = \(id)").first?.decode("s"))
        #expect(left > 20)
        // Settled: the fenced finish commits, then the lock is given up.
        let done = try s.settle([job]) { try $0.jobFinish([FinishedJob(job: job, outputPath: "output/x-a1.json", outputBytes: 1, warningsJSON: "[]", metadataJSON: "{}")]) }
        #expect(done == [id])
        #expect(try locks(LockClass.job, key(id)) == 0)
    }

    @Test func aStatementThatLosesADeadlockIsRunAgain() throws {
        let s = session()
        defer { s.close() }
        var tries = 0
        let answer: Int = try s.run { c in
            tries += 1
            if tries == 1 { try c.execute("DO $$ BEGIN RAISE EXCEPTION 'chosen as the victim' USING ERRCODE = '40P01'; END $$") }
            return tries
        }
        #expect(answer == 2 && s.retries == 1)
        // Anything else is not retried.
        #expect(throws: StoreError.self) { try s.run { try $0.execute("DO $$ BEGIN RAISE EXCEPTION 'no' USING ERRCODE = '23514'; END $$") } }
        #expect(s.retries == 1)
    }

    @Test func aSlotTakenDuringTheOutageIsNoticed() throws {
        let s = session()
        defer { s.close() }
        let slot = 9_102
        #expect(try s.run { try $0.runnerSlotRetake(slot) })
        s.slot = slot
        try terminate(s)
        let successor = try PGConnection(conninfo)
        var taken = false
        for _ in 0..<50 where !taken {  // the terminated backend lets go of its locks as it exits
            taken = try successor.runnerSlotRetake(slot)
            if !taken { usleep(20_000) }
        }
        #expect(taken)
        _ = try s.run { try $0.query("SELECT 1 AS x") }
        #expect(s.slotLost)
    }
}
