import DocFlowCore
import DocFlowStore
import Foundation
import TestDatabase
import Testing

/// The queue's states and transitions (README: "States and transitions") as the store's queries
/// make them, against a real PostgreSQL: every row of the table, and the fences that keep a
/// stalled runner from writing over a newer attempt.
@Suite(.enabled(if: TestDatabase.available, "needs DOCFLOW_TEST_DATABASE (scripts/test sets it)"), .serialized)
struct QueueTests {
    let conninfo: String
    let db: PGConnection

    init() throws {
        conninfo = try TestDatabase.freshSchema()
        db = try PGConnection(conninfo)
    }

    func status(_ id: UUID) throws -> (status: JobStatus, attempt: Int, errorCode: String?) {
        let r = try #require(try db.query("SELECT status::text AS status, attempt, error_code FROM jobs WHERE id = \(id)").first)
        return (try r.decode("status"), try r.decode("attempt"), try r.decodeIfPresent("error_code"))
    }

    /// Whether some session holds job `id`'s advisory lock.
    func locked(_ id: UUID) throws -> Bool {
        try db.query("""
            SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = \(LockClass.job)::int::oid
                           AND objid = hashtext(\(id.uuidString.lowercased()))::oid) AS held
            """).first?.decode("held") == true
    }

    func finished(_ job: ClaimedJob, bytes: Int64 = 5) -> FinishedJob {
        FinishedJob(job: job, outputPath: Storage.outputPath(client: job.clientID, job: job.id, attempt: job.attempt, ext: "json"),
                    outputBytes: bytes, warningsJSON: "[]", metadataJSON: "{}")
    }

    @Test func statusEnumIsTheDatabasesOwn() throws {
        let labels: [String] = try db.query("SELECT unnest(enum_range(NULL::job_status))::text AS s").rows.map { try $0.decode("s") }
        #expect(labels == JobStatus.allCases.map(\.rawValue))
    }

    @Test func claimTakesTheBestPendingJobsInOrderWithALeaseAndTheLock() throws {
        let low = try TestDatabase.seed(db, jobs: 2, priority: 3).jobs
        let high = try TestDatabase.seed(db, jobs: 1, priority: 9).jobs
        // Two jobs created in the same microsecond: the id breaks the tie, in SQL.
        try db.query("UPDATE jobs SET created_at = '2026-01-01T00:00:00Z' WHERE id = ANY(\("{\(low.map { $0.uuidString.lowercased() }.joined(separator: ","))}")::uuid[])")
        let claimed = try db.jobClaim(limit: 3, leaseSeconds: 30, worker: "test:1")
        #expect(claimed.map(\.id) == high + low.sorted { $0.uuidString.lowercased() < $1.uuidString.lowercased() })
        for job in claimed {
            #expect(try status(job.id).status == .processing && job.attempt == 1)
            #expect(try locked(job.id))
        }
        let lease: Double = try #require(try db.query("SELECT extract(epoch FROM lease_until - now())::float8 AS s FROM jobs WHERE id = \(high[0])").first?.decode("s"))
        #expect(lease > 25 && lease <= 30)
        #expect(try db.jobClaim(limit: 3, leaseSeconds: 30, worker: "test:1").isEmpty)
    }

    @Test func claimLeavesAJobWhoseLockAnotherSessionHolds() throws {
        let id = try TestDatabase.seed(db, jobs: 1).jobs[0]
        let other = try PGConnection(conninfo)
        try other.query("SELECT pg_advisory_lock(\(LockClass.job), hashtext(\(id.uuidString.lowercased())))")
        #expect(try db.jobClaim(limit: 1, leaseSeconds: 30, worker: "test:1").isEmpty)
        #expect(try status(id).status == .pending)
        other.close()  // the stalled owner's session ends: the lock goes with it (once its backend has exited)
        for _ in 0..<250 where try locked(id) { usleep(20_000) }
        #expect(try db.jobClaim(limit: 1, leaseSeconds: 30, worker: "test:1").map(\.id) == [id])
    }

    @Test func finishMarksDoneOnceChargesTheOutputAndIsRecognisedWhenRunAgain() throws {
        let (client, ids) = try TestDatabase.seed(db, jobs: 1, inputBytes: 10)
        let job = try #require(try db.jobClaim(leaseSeconds: 30, worker: "test:1").first)
        #expect(try db.jobHeartbeat(job, leaseSeconds: 30))
        try db.jobProgress(job, percent: 50, step: "converting")
        #expect(try db.jobFinish([finished(job, bytes: 7)]) == [ids[0]])
        #expect(try status(ids[0]).status == .done)
        #expect(try db.clientUsage(client)?.used == 17)
        // A finish whose answer was lost, run again: recognised, not charged twice.
        #expect(try db.jobFinish([finished(job, bytes: 7)]) == [ids[0]])
        #expect(try db.clientUsage(client)?.used == 17)
        try db.jobUnlock([job])
        #expect(try !locked(ids[0]))
    }

    @Test func aFinishPastTheQuotaIsRefusedWhole() throws {
        let (client, ids) = try TestDatabase.seed(db, quota: 100, jobs: 2, inputBytes: 40)
        let jobs = try db.jobClaim(limit: 2, leaseSeconds: 30, worker: "test:1")
        #expect(jobs.count == 2)
        do {
            _ = try db.jobFinish(jobs.map { finished($0, bytes: 15) })
            Issue.record("a finish past the quota was accepted")
        } catch let e as StoreError {
            #expect(e.isCheckViolation, "\(String(reflecting: e))")
        }
        for id in ids { #expect(try status(id).status == .processing) }
        #expect(try db.clientUsage(client)?.used == 80)
    }

    @Test func aFailedAttemptIsRetriedWithBackoffThenFailsForGood() throws {
        let id = try TestDatabase.seed(db, jobs: 1, maxAttempts: 2).jobs[0]
        let first = try #require(try db.jobClaim(leaseSeconds: 30, worker: "test:1").first)
        #expect(try db.jobFail(first, code: "timeout", message: "too slow", retry: true, backoffSeconds: 60))
        #expect(try status(id) == (.pending, 1, "timeout"))
        #expect(try db.jobClaim(leaseSeconds: 30, worker: "test:1").isEmpty)  // run_after is a minute away
        try db.jobUnlock([first])
        try db.query("UPDATE jobs SET run_after = now() WHERE id = \(id)")
        let second = try #require(try db.jobClaim(leaseSeconds: 30, worker: "test:1").first)
        #expect(second.attempt == 2 && second.previousError?.code == "timeout")
        #expect(try db.jobFail(second, code: "timeout", message: "too slow again", retry: true, backoffSeconds: 0))
        #expect(try status(id) == (.failed, 2, "timeout"))
    }

    @Test func writesOfAnOlderAttemptAreFencedOff() throws {
        let id = try TestDatabase.seed(db, jobs: 1).jobs[0]
        let stale = try #require(try db.jobClaim(leaseSeconds: 30, worker: "a:1").first)
        #expect(try db.jobFail(stale, code: "storage", message: "disk", retry: true, backoffSeconds: 0))
        try db.jobUnlock([stale])
        let fresh = try #require(try db.jobClaim(leaseSeconds: 30, worker: "b:2").first)
        #expect(fresh.attempt == 2)
        #expect(try !db.jobHeartbeat(stale, leaseSeconds: 30))
        #expect(try db.jobFinish([finished(stale)]).isEmpty)
        #expect(try !db.jobFail(stale, code: "x", message: "y", retry: false, backoffSeconds: 0))
        #expect(try status(id) == (.processing, 2, "storage"))
        #expect(try db.jobFinish([finished(fresh)]) == [id])
    }

    @Test func rescueTakesOnlyJobsWhoseOwnerIsGoneOrStopped() throws {
        let ids = try TestDatabase.seed(db, jobs: 3).jobs
        let owner = try PGConnection(conninfo)
        let jobs = try owner.jobClaim(limit: 3, leaseSeconds: 30, worker: "owner:1")
        #expect(jobs.count == 3)
        // ids[0]: lease expired, lock still held (a stopped owner). ids[1]: lock free and a heartbeat
        // missed (a dead owner). ids[2]: lock held and lease renewed: never taken.
        try db.query("UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = \(ids[0])")
        try owner.jobUnlock([jobs.first { $0.id == ids[1] }!])
        // A lease shorter than the server's uptime, so the server's start does not count as a renewal.
        let uptime: Double = try #require(try db.query("SELECT extract(epoch FROM now() - pg_postmaster_start_time())::float8 AS s").first?.decode("s"))
        let lease = min(30, uptime / 2)
        try db.query("UPDATE jobs SET lease_until = now() + make_interval(secs => \(lease / 4)) WHERE id = \(ids[1])")
        let rescued = try db.jobRescue(backoffSeconds: 0, leaseSeconds: lease)
        #expect(rescued == 2)
        #expect(try status(ids[0]) == (.pending, 1, "runner_lost"))
        #expect(try status(ids[1]) == (.pending, 1, "runner_lost"))
        #expect(try status(ids[2]).status == .processing)
    }

    @Test func unstartedJobsGoBackAsIfNeverClaimed() throws {
        let id = try TestDatabase.seed(db, jobs: 1).jobs[0]
        let job = try #require(try db.jobClaim(leaseSeconds: 30, worker: "test:1").first)
        try db.jobRelease([job])
        try db.jobUnlock([job])
        #expect(try status(id) == (.pending, 0, nil))
    }

    @Test func slotsAndSuccessors() throws {
        let a = try PGConnection(conninfo), b = try PGConnection(conninfo), c = try PGConnection(conninfo)
        // Slot numbers far from the other suites' (advisory locks are database-wide).
        let base = 9_000
        func take(_ s: PGConnection) throws -> Int? {
            try s.query("SELECT pg_try_advisory_lock(\(LockClass.runnerSlot), \(base + 1)) AS ok").first?.decode("ok") == true ? base + 1 : nil
        }
        #expect(try take(a) == base + 1)
        #expect(try take(b) == nil)
        #expect(try !a.runnerSuccessorWaiting(base + 1))
        try b.query("SELECT pg_advisory_lock(\(LockClass.successor), \(base + 1))")
        #expect(try a.runnerSuccessorWaiting(base + 1))
        #expect(try !c.runnerSlotWait(base + 1, timeout: 0.2))  // a holds the slot
        a.close()  // the holder leaves: the waiting successor gets the slot
        #expect(try b.runnerSlotWait(base + 1, timeout: 5))
        #expect(try !c.runnerSlotRetake(base + 1))
    }
}
