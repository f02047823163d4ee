import DocFlowConvert
import DocFlowStore
import Foundation
import Logging

/// A short-lived job runner (DESIGN.md): takes a runner slot, LISTENs for new jobs, and loops
/// claim → convert → finish until its time budget is spent. Conversions run on a worker thread
/// while this thread, the only user of the connection, renews the lease, writes throttled
/// progress and enforces the per-job time limit.
public final class Runner {
    let config: Config
    let registry: FormatRegistry
    let storage: Storage
    let logger: Logger
    let worker: String
    /// The one thread conversions run on, so this thread stays free to watch them.
    let converter = ConversionThread()
    /// Exit when the queue is empty instead of waiting for the budget to run out.
    public var drain = false
    public var budgetSeconds: Double

    public init(config: Config, registry: FormatRegistry = .standard, logger: Logger) {
        self.config = config
        self.registry = registry
        self.storage = Storage(root: config.storage)
        self.logger = logger
        self.budgetSeconds = config.runnerBudgetSeconds
        self.worker = "\(ProcessInfo.processInfo.hostName):\(getpid())"
    }

    /// Runs until the budget is spent; returns the number of jobs handled.
    @discardableResult
    public func run() throws -> Int {
        applyMemoryLimit()
        try storage.prepare()
        let db = try PGConnection(config.database)
        guard let slot = try db.runnerSlotTake(slots: config.runnerSlots) else {
            logger.info("all runner slots are busy; exiting", metadata: ["docflow.runner.slots": "\(config.runnerSlots)"])
            return 0
        }
        logger.info("runner started", metadata: ["docflow.runner.slot": "\(slot)", "docflow.runner.worker": "\(worker)"])
        let deadline = Date().addingTimeInterval(budgetSeconds)
        var lastRescue = Date.distantPast
        var handled = 0
        var batchSize = 1
        // LISTEN only while idle: every listening backend is woken for every notification of the
        // database (all channels) and reads it, so a busy runner that listened would make
        // PostgreSQL read each job event three times (bench/README.md).
        var listening = false
        while Date() < deadline {
            if Date().timeIntervalSince(lastRescue) > 5 {
                let n = try db.jobRescue(backoffSeconds: config.retryBackoffSeconds)
                if n > 0 { logger.warning("rescued jobs of lost runners", metadata: ["docflow.jobs.rescued": "\(n)"]) }
                lastRescue = Date()
            }
            let jobs = try db.jobClaim(limit: batchSize, leaseSeconds: config.leaseSeconds, worker: worker)
            if !jobs.isEmpty {
                if listening {
                    try db.unlisten("docflow_jobs")
                    listening = false
                }
                stats.claims += 1
                let (count, converting) = try work(jobs, db: db)
                handled += count
                // Adaptive batching: while conversions are tiny, claim several per statement (fewer
                // commits); one slow conversion brings the batch back to one, so no job waits behind
                // a long one. Only conversion time counts: waiting on the database under load says
                // nothing about the size of the jobs.
                let perJob = converting / Double(max(count, 1))
                batchSize = perJob < 0.01 ? min(batchSize * 2, Self.maxBatch) : 1
                continue
            }
            batchSize = 1
            if !listening {
                try db.listen("docflow_jobs")
                listening = true
                continue  // claim once more: a job may have arrived between that claim and LISTEN
            }
            if drain, try db.query("SELECT count(*) AS n FROM jobs WHERE status IN ('PENDING', 'PROCESSING')").first?.int("n") == 0 {
                break
            }
            // Draining: other runners' jobs may still fail back into the queue, so look again soon.
            _ = try db.notifications(timeout: min(drain ? 0.05 : 1.0, max(0, deadline.timeIntervalSinceNow)))
        }
        logger.info("runner finished", metadata: ["docflow.runner.jobs": "\(handled)", "docflow.runner.claims": "\(stats.claims)",
                                                  "docflow.runner.flushes": "\(stats.flushes)", "docflow.runner.released": "\(stats.released)"])
        return handled
    }

    /// Counts for the closing log line.
    private var stats = (claims: 0, flushes: 0, released: 0)

    /// Most jobs claimed by one statement.
    static let maxBatch = 128
    /// Finished jobs are marked done together, but never later than this after the first of them.
    static let flushInterval = 0.02
    /// Unstarted jobs of a batch go back to the queue once the batch has taken this long.
    static let batchPatience = 0.25

    /// Converts claimed jobs in order and marks them done in groups; returns how many it handled
    /// and the seconds spent converting them.
    private func work(_ jobs: [ClaimedJob], db: PGConnection) throws -> (Int, Double) {
        var converting = 0.0
        var finished: [FinishedJob] = []
        var firstUnflushed = Date()
        let started = Date()
        for (i, job) in jobs.enumerated() {
            if i > 0, Date().timeIntervalSince(started) > Self.batchPatience {
                try flush(&finished, db: db)
                try db.jobRelease(Array(jobs[i...]))
                stats.released += jobs.count - i
                return (i, converting)
            }
            if finished.isEmpty { firstUnflushed = Date() }
            let t0 = Date()
            let done = try process(job, db: db, pending: &finished)
            converting += Date().timeIntervalSince(t0)
            if let done { finished.append(done) }
            if Date().timeIntervalSince(firstUnflushed) > Self.flushInterval { try flush(&finished, db: db) }
        }
        try flush(&finished, db: db)
        return (jobs.count, converting)
    }

    /// Marks converted jobs done. Outputs of jobs that were no longer ours are removed; when the
    /// group would put a client over quota, each job is finished alone so only that one fails.
    private func flush(_ finished: inout [FinishedJob], db: PGConnection) throws {
        guard !finished.isEmpty else { return }
        defer { finished.removeAll() }
        stats.flushes += 1
        do {
            let mine = try db.jobFinish(finished)
            for f in finished {
                let meta: Logger.Metadata = ["docflow.job.id": "\(f.job.id.uuidString.lowercased())", "docflow.job.attempt": "\(f.job.attempt)"]
                if mine.contains(f.job.id) {
                    logger.info("job finished", metadata: meta)
                } else {
                    storage.remove(f.outputPath)
                    logger.info("job vanished or was taken over before it finished; output discarded", metadata: meta)
                }
            }
        } catch let e as StoreError where e.sqlState == "23514" && finished.count > 1 {
            for f in finished {
                var one = [f]
                try flush(&one, db: db)
            }
        } catch let e as StoreError where e.sqlState == "23514" {
            let f = finished[0]
            storage.remove(f.outputPath)
            try db.jobFail(f.job, code: "quota_exceeded",
                           message: "The output (\(f.outputBytes) bytes) would put you over your quota.",
                           retry: false, backoffSeconds: 0)
        }
    }

    /// setrlimit(RLIMIT_AS): a conversion that allocates past the limit fails this process, which
    /// costs the job one attempt (the rescue sees the released advisory lock).
    private func applyMemoryLimit() {
        guard config.jobMemoryMB > 0 else { return }
        let bytes = rlim_t(config.jobMemoryMB) * 1_048_576
        var lim = rlimit(rlim_cur: bytes, rlim_max: bytes)
        if setrlimit(Int32(RLIMIT_AS.rawValue), &lim) != 0 {
            logger.warning("setrlimit failed", metadata: ["docflow.errno": "\(errno)"])
        }
    }

    /// Converts one job. Returns its output to be marked done, or nil when the job failed (that is
    /// recorded here). `pending` is flushed first if this job must stop the process.
    private func process(_ job: ClaimedJob, db: PGConnection, pending: inout [FinishedJob]) throws -> FinishedJob? {
        let meta: Logger.Metadata = ["docflow.job.id": "\(job.id.uuidString.lowercased())", "docflow.job.attempt": "\(job.attempt)"]
        guard let from = registry.format(named: job.inputFormat), let to = registry.format(named: job.outputFormat) else {
            try db.jobFail(job, code: "unknown_format", message: "This runner does not know the job's formats.",
                           retry: false, backoffSeconds: 0)
            return nil
        }
        guard let input = storage.read(job.inputPath) else {
            try db.jobFail(job, code: "input_missing", message: "The uploaded file is gone; upload it again.",
                           retry: false, backoffSeconds: 0)
            return nil
        }
        let options = (try? JSONSerialization.jsonObject(with: Data(job.optionsJSON.utf8))) as? [String: Any] ?? [:]
        let box = ProgressBox()
        let context = ConversionContext(options: options) { box.set($0, $1) }
        let outcome = OutcomeBox()
        let hooks = config.testHooks
        let registry = self.registry
        let done = converter.submit {
            if hooks { TestHooks.apply(options, context: context) }
            do {
                outcome.value = .success(try registry.convert(input, from: from, to: to, context: context))
            } catch {
                outcome.value = .failure(error)
            }
        }

        let started = Date()
        var lastBeat = started, lastProgress = Date.distantPast, sentProgress = (0, "starting")
        while done.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            let now = Date()
            if now.timeIntervalSince(started) > config.jobTimeoutSeconds {
                let msg = "The conversion took longer than the \(Int(config.jobTimeoutSeconds)) s time limit."
                try flush(&pending, db: db)
                try db.jobFail(job, code: "timeout", message: msg, retry: true, backoffSeconds: config.retryBackoffSeconds)
                logger.error("job timed out; exiting so the stuck conversion stops with this process", metadata: meta)
                exit(3)
            }
            if now.timeIntervalSince(lastBeat) > config.leaseSeconds / 3 {
                if try !db.jobHeartbeat(job, leaseSeconds: config.leaseSeconds) {
                    logger.info("job was deleted or taken over while converting", metadata: meta)
                }
                lastBeat = now
            }
            let p = box.get()
            if (p.0 != sentProgress.0 || p.1 != sentProgress.1), now.timeIntervalSince(lastProgress) >= 0.25 {
                try db.jobProgress(job, percent: min(p.0, 99), step: p.1)
                sentProgress = p
                lastProgress = now
            }
        }

        switch outcome.value {
        case .success(let result)?:
            return try store(job, result: result, to: to, db: db)
        case .failure(let e as ConversionError)?:
            logger.info("conversion failed", metadata: meta.merging(["docflow.error": "\(String(reflecting: e))"]) { $1 })
            try db.jobFail(job, code: e.code.rawValue, message: e.message, retry: false, backoffSeconds: 0)
        case .failure(let e)?:
            logger.error("conversion error", metadata: meta.merging(["docflow.error": "\(String(reflecting: e))"]) { $1 })
            try db.jobFail(job, code: "internal", message: "The conversion failed unexpectedly; it will be retried.",
                           retry: true, backoffSeconds: config.retryBackoffSeconds)
        case nil:
            try db.jobFail(job, code: "internal", message: "The conversion ended without a result.", retry: true,
                           backoffSeconds: config.retryBackoffSeconds)
        }
        return nil
    }

    /// Writes the output next to its final name (`.part`) and renames it into place; the job is
    /// marked done by the next flush (fenced there). The temporary file sits in the destination
    /// folder rather than in tmp/: a rename across folders takes the filesystem-wide rename lock,
    /// which serialised two runners in the queue benchmark (bench/README.md).
    private func store(_ job: ClaimedJob, result: ConversionResult, to: Format, db: PGConnection) throws -> FinishedJob? {
        let dest = Storage.outputPath(client: job.clientID, job: job.id, attempt: job.attempt, ext: to.id)
        guard (try? storage.writeAtomically(result.bytes, to: dest)) == true else {
            try db.jobFail(job, code: "storage", message: "The output could not be written.", retry: true,
                           backoffSeconds: config.retryBackoffSeconds)
            return nil
        }
        return FinishedJob(job: job, outputPath: dest, outputBytes: Int64(result.bytes.count),
                           warningsJSON: result.warningsJSON, metadataJSON: result.metadataJSON)
    }
}

/// A long-lived thread that runs one conversion at a time (a thread per job would cost a clone
/// and an 8 MB stack mapping each time). A conversion past its time limit ends the process.
final class ConversionThread: @unchecked Sendable {
    private let ready = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var work: (() -> Void)?
    private var finished: DispatchSemaphore?

    init() {
        let thread = Thread { [unowned self] in self.loop() }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Runs `body` on the conversion thread; the semaphore is signalled when it returns.
    func submit(_ body: @escaping () -> Void) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        lock.lock()
        work = body
        finished = done
        lock.unlock()
        ready.signal()
        return done
    }

    private func loop() {
        while true {
            ready.wait()
            lock.lock()
            let body = work, done = finished
            work = nil
            lock.unlock()
            body?()
            done?.signal()
        }
    }
}

final class ProgressBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value = (0, "starting")
    func set(_ p: Int, _ s: String) { lock.lock(); value = (p, s); lock.unlock() }
    func get() -> (Int, String) { lock.lock(); defer { lock.unlock() }; return value }
}

final class OutcomeBox: @unchecked Sendable {
    var value: Result<ConversionResult, Error>?
}
