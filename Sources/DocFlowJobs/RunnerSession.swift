import DocFlowStore
import Foundation
import Logging

/// A runner's database session, kept through faults: a lost connection (a server restart, a
/// terminated backend, a network cut) is re-established with backoff, and what the session held is
/// taken again — its slot, the locks of the jobs it is converting, its LISTEN — before the
/// statement that met the loss is run again. A statement that loses a deadlock or a serialization
/// race (40P01, 40001) is run again too. Every statement given to `run` must therefore be safe to
/// repeat: the runner's are fenced by (id, status, attempt), and `jobFinish` recognises a finish
/// that committed before its answer was lost.
final class RunnerSession {
    private let conninfo: String
    private let logger: Logger
    private let giveUpAfter: Double
    private let leaseSeconds: Double
    private var conn: PGConnection?
    /// The slot to take again after a reconnect.
    var slot: Int?
    /// Whether to LISTEN again after a reconnect.
    var listening = false
    /// Jobs claimed and not yet finished, failed or released: their locks are taken again after a
    /// reconnect, and given up with `unlock`.
    private(set) var held: [UUID: ClaimedJob] = [:]
    /// A reconnect found the slot taken by another runner (its successor, after the server dropped
    /// both sessions): finish what is in hand, then exit.
    private(set) var slotLost = false
    /// Reconnects and retried statements, for the closing log line.
    private(set) var reconnects = 0, retries = 0
    private var everConnected = false

    init(conninfo: String, logger: Logger, giveUpAfter: Double, leaseSeconds: Double) {
        self.leaseSeconds = leaseSeconds
        self.conninfo = conninfo
        self.logger = logger
        self.giveUpAfter = giveUpAfter
    }

    /// Runs `body` on the connection, reconnecting and retrying as described above. Throws what
    /// is not a loss or a lost race, and `unavailable` once the database has been gone for
    /// `giveUpAfter` seconds.
    func run<T>(_ body: (PGConnection) throws -> T) throws -> T {
        var raced = 0, lost = 0
        var firstLoss: Date?
        while true {
            do {
                return try body(try connection())
            } catch let e as StoreError where e.code == .unavailable {
                conn?.close()
                conn = nil
                // A statement that keeps losing a connection just made (a server shutting down that
                // still accepts, a backend that dies on it) must not spin: back off, then give up.
                lost += 1
                let since = firstLoss ?? Date()
                firstLoss = since
                if Date().timeIntervalSince(since) > giveUpAfter { throw e }
                if lost > 1 { usleep(UInt32(min(1.0, 0.05 * Double(lost)) * 1_000_000)) }
            } catch let e as StoreError where e.isRaceLost && raced < 8 {
                raced += 1
                retries += 1
                logger.warning("statement lost a deadlock or serialization race; running it again",
                               metadata: ["docflow.sqlstate": "\(e.sqlState)", "docflow.retry": "\(raced)"])
                usleep(UInt32.random(in: 2_000...20_000) * UInt32(raced))
            }
        }
    }

    /// Records a claim: these jobs' locks are now the session's.
    func hold(_ jobs: [ClaimedJob]) { for j in jobs { held[j.id] = j } }

    /// Runs the fenced write that ends these jobs' attempts (finish, fail, release), then — its
    /// transaction committed — gives up their locks: the one place the order is kept.
    func settle<T>(_ jobs: [ClaimedJob], _ body: (PGConnection) throws -> T) throws -> T {
        let result = try run(body)
        try unlock(jobs)
        return result
    }

    /// Gives up the locks of jobs no longer converted (after the statement that fenced them).
    private func unlock(_ jobs: [ClaimedJob]) throws {
        let mine = jobs.filter { held.removeValue(forKey: $0.id) != nil }
        guard !mine.isEmpty else { return }
        try run { try $0.jobUnlock(mine) }
    }

    func close() {
        conn?.close()
        conn = nil
    }

    /// The live connection, or a new one with the session's slot, job locks and LISTEN restored.
    private func connection() throws -> PGConnection {
        if let conn { return conn }
        let lost = Date()
        // A runner that cannot reach the database at its start gives up soon: cron starts another.
        let limit = everConnected ? giveUpAfter : min(giveUpAfter, 20)
        var delay = 0.05
        var first = true
        while true {
            do {
                let c = try PGConnection(conninfo)
                if let slot, try !c.runnerSlotRetake(slot) {
                    slotLost = true
                    logger.warning("after the reconnect another runner has this slot; finishing what is in hand, then exiting",
                                   metadata: ["docflow.runner.slot": "\(slot)"])
                }
                for job in held.values {
                    if try !c.jobRelock(job) {
                        // Someone else has it now (a rescuer's transaction, the next attempt's runner):
                        // the fenced finish will tell; until then the lock is not ours to give up.
                        held[job.id] = nil
                        logger.warning("after the reconnect the job's lock is held elsewhere", metadata: job.logMetadata)
                    }
                    // Renewed at once: a rescuer takes a lock-free job only once it has missed a heartbeat.
                    _ = try c.jobHeartbeat(job, leaseSeconds: leaseSeconds)
                }
                if listening { try c.listen("docflow_jobs") }
                if everConnected {
                    reconnects += 1
                    logger.warning("reconnected to the database", metadata: ["docflow.outage_seconds": "\(String(format: "%.2f", Date().timeIntervalSince(lost)))"])
                }
                everConnected = true
                conn = c
                return c
            } catch let e as StoreError where e.code == .unavailable {
                if Date().timeIntervalSince(lost) > limit { throw e }
                if first {
                    logger.warning("database connection lost; reconnecting", metadata: ["docflow.error": "\(String(reflecting: e))"])
                    first = false
                }
                usleep(UInt32(delay * Double.random(in: 0.5...1.0) * 1_000_000))
                delay = min(delay * 2, 1.0)
            }
        }
    }
}
