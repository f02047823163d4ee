import DocFlowConvert
import DocFlowCore
import DocFlowSandbox
import DocFlowStore
import Foundation
import Logging
import Tracing

/// A short-lived job runner (DESIGN.md): takes a runner slot, LISTENs for new jobs while idle, and
/// loops claim → convert → finish until its time budget is spent. Conversions run in sandboxed
/// converter processes (`SandboxPool`), driven from a conversion thread, while this thread, the
/// only user of the connection, marks jobs done, renews the lease, writes throttled progress and
/// enforces the per-job time limit (by killing the converter).
public final class Runner {
    let config: Config
    let registry: FormatRegistry
    /// This host's work folder (`tmp/`, converters' `scratch/`).
    let storage: Storage
    let logger: Logger
    /// The conversion thread's object store, and this thread's (outputs of lost jobs are removed here).
    let conversionStore: ThreadStore
    let mainStore: ThreadStore
    let worker: String
    /// The one thread that drives the converters, so this thread stays free to watch them.
    let converter = ConversionThread()
    /// The sandboxed converter processes.
    let pool: SandboxPool
    /// Exit when the queue is empty instead of waiting for the budget to run out.
    public var drain = false
    public var budgetSeconds: Double

    public init(config: Config, registry: FormatRegistry = .standard, store: ObjectStoreFactory? = nil, logger: Logger) {
        self.config = config
        self.registry = registry
        self.storage = Storage(config: config)
        self.logger = logger
        let factory = store ?? LocalStore.factory(root: config.storage)
        conversionStore = ThreadStore(factory: factory, logger: logger)
        mainStore = ThreadStore(factory: factory, logger: logger)
        self.budgetSeconds = config.runnerBudgetSeconds
        self.worker = "\(ProcessInfo.processInfo.hostName):\(getpid())"
        var limits = Worker.Limits()
        limits.memoryMB = config.jobMemoryMB
        limits.cpuSecondsPerJob = Int(config.jobTimeoutSeconds.rounded(.up)) + 5
        limits.fileMB = config.jobFileMB
        limits.maxJobs = config.workerMaxJobs
        self.pool = SandboxPool(mode: SandboxMode(rawValue: config.sandbox) ?? .bwrap, limits: limits,
                                workerBinary: Self.workerBinary, scratchRoot: storage.absolute("scratch"), testHooks: config.testHooks,
                                bwrapPath: config.bwrap)
    }

    /// `convert-worker` beside this executable.
    static var workerBinary: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent + "/convert-worker"
    }

    /// Runs until the budget is spent and a successor has come for the slot (or the handoff wait
    /// ran out, or the queue is empty with `drain`); returns the number of jobs handled. A lost
    /// database connection is re-established (`RunnerSession`); the conversions go on meanwhile.
    @discardableResult
    public func run() throws -> Int {
        if let mode = SandboxMode(rawValue: config.sandbox) {
            if mode == .off { logger.warning("DOCFLOW_SANDBOX=off: converters run without a sandbox (development only)") }
        } else {
            throw SandboxError("DOCFLOW_SANDBOX must be bwrap or off, not \(config.sandbox)")
        }
        try storage.prepare()
        let db = RunnerSession(conninfo: config.database, logger: logger, giveUpAfter: config.runnerReconnectSeconds,
                               leaseSeconds: config.leaseSeconds)
        defer { db.close() }
        defer { pool.shutdown() }
        // No sandbox, no conversions: never silently unsandboxed. Checked (and the first converter
        // started) before a successor waits for its slot, so the handover costs no start-up time.
        guard let slot = try takeSlot(db, prepare: { try pool.check() }) else { return 0 }
        db.slot = slot
        logger.info("runner started", metadata: ["docflow.runner.slot": "\(slot)", "docflow.runner.worker": "\(worker)"])
        let deadline = Date().addingTimeInterval(budgetSeconds)
        var lastRescue = Date.distantPast, lastSuccessorCheck = Date.distantPast
        var handled = 0
        var batchSize = 1
        while true {
            let now = Date()
            if db.slotLost { break }
            if now >= deadline {
                // Budget spent: hand the slot on only to a runner that is there to take it, so
                // some runner is always listening (README: runner lifetimes).
                if drain || config.runnerHandoffSeconds == 0 { break }
                if now.timeIntervalSince(lastSuccessorCheck) >= 0.2 {
                    lastSuccessorCheck = now
                    if try db.run({ try $0.runnerSuccessorWaiting(slot) }) {
                        logger.info("budget spent; handing the slot to the waiting runner", metadata: ["docflow.runner.slot": "\(slot)"])
                        break
                    }
                    if now.timeIntervalSince(deadline) > config.runnerHandoffSeconds {
                        logger.warning("budget spent and no runner came for the slot (is cron running?); exiting",
                                       metadata: ["docflow.runner.slot": "\(slot)"])
                        break
                    }
                }
            }
            if now.timeIntervalSince(lastRescue) > 5 {
                let n = try db.run { try $0.jobRescue(backoffSeconds: config.retryBackoffSeconds, leaseSeconds: config.leaseSeconds) }
                if n > 0 { logger.warning("rescued jobs of lost runners", metadata: ["docflow.jobs.rescued": "\(n)"]) }
                lastRescue = now
            }
            let size = batchSize
            let claimStart = DefaultTracerClock.now
            var jobs = try db.run { try $0.jobClaim(limit: size, leaseSeconds: config.leaseSeconds, worker: worker) }
            if !jobs.isEmpty {
                // Each attempt's spans continue the trace of the request that made its job.
                let claimEnd = DefaultTracerClock.now
                let spans = jobs.indices.map { i -> JobSpans? in
                    let s = JobSpans(job: jobs[i], claimed: (claimStart, claimEnd), runner: worker)
                    if jobs[i].traceContext == nil { jobs[i].traceContext = s?.traceparent }
                    return s
                }
                db.hold(jobs)
                if db.listening {
                    db.listening = false
                    try db.run { try $0.unlisten("docflow_jobs") }
                }
                stats.claims += 1
                let (count, converting) = try work(Batch(jobs: jobs, spans: spans), db: db)
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
            // LISTEN only while idle: every listening backend is woken for every notification of
            // the database (all channels) and reads it, so a busy runner that listened would make
            // PostgreSQL read each job event three times (bench/README.md).
            if !db.listening {
                try db.run { try $0.listen("docflow_jobs") }
                db.listening = true
                continue  // claim once more: a job may have arrived between that claim and LISTEN
            }
            if drain, try db.run({ try $0.jobsUnfinishedCount() }) == 0 {
                break
            }
            // Draining: other runners' jobs may still fail back into the queue, so look again soon.
            // Past the budget: look for a successor often. A lost connection is found here too.
            let wait = drain ? 0.05 : (now >= deadline ? 0.2 : 1.0)
            _ = try db.run { try $0.notifications(timeout: wait) }
        }
        db.close()  // the slot goes with the session: a waiting successor has it now
        logger.info("runner finished", metadata: ["docflow.runner.jobs": "\(handled)", "docflow.runner.claims": "\(stats.claims)",
                                                  "docflow.runner.flushes": "\(stats.flushes)", "docflow.runner.released": "\(stats.released)",
                                                  "docflow.runner.reconnects": "\(db.reconnects)", "docflow.runner.retries": "\(db.retries)"])
        return handled
    }

    /// A free slot, or — when every slot is busy and handoffs are on — the slot of a runner whose
    /// successor this one becomes: it waits (a blocking advisory lock) until that runner has spent
    /// its budget and lets go. Nil when there is nothing to do (every slot has a successor already).
    private func takeSlot(_ db: RunnerSession, prepare: () throws -> Void) throws -> Int? {
        if let slot = try db.run({ try $0.runnerSlotTake(slots: config.runnerSlots) }) {
            try prepare()
            return slot
        }
        guard config.runnerHandoffSeconds > 0, !drain,
              let next = try db.run({ try $0.runnerSuccessorTake(slots: config.runnerSlots) }) else {
            logger.info("all runner slots are busy; exiting", metadata: ["docflow.runner.slots": "\(config.runnerSlots)"])
            return nil
        }
        try prepare()
        logger.info("all runner slots are busy; waiting to take over one", metadata: ["docflow.runner.slot": "\(next)"])
        let limit = config.runnerBudgetSeconds + config.runnerHandoffSeconds + 10
        guard try db.run({ try $0.runnerSlotWait(next, timeout: limit) }) else {
            logger.info("the slot's runner did not let go in time; exiting", metadata: ["docflow.runner.slot": "\(next)"])
            return nil
        }
        return next
    }

    /// Counts for the closing log line.
    private var stats = (claims: 0, flushes: 0, released: 0)

    /// Most jobs claimed by one statement.
    static let maxBatch = 128
    /// Finished jobs are marked done together, but never later than this after the first of them.
    static let flushInterval = 0.02
    /// Unstarted jobs of a batch go back to the queue once the batch has taken this long.
    static let batchPatience = 0.25

    /// Works through claimed jobs: the conversion thread converts them in order and writes their
    /// outputs; this thread wakes at least every `flushInterval` to mark what is converted done
    /// (so the database work of one group overlaps the conversions of the next), record failures,
    /// renew the current job's lease, write its progress, enforce its time limit, and give unstarted
    /// jobs back once the batch has run past `batchPatience`. Returns how many jobs were started and
    /// the seconds spent converting.
    private func work(_ batch: Batch, db: RunnerSession) throws -> (Int, Double) {
        let jobs = batch.jobs
        let convert = BatchConversion(registry: registry, stores: conversionStore, pool: pool,
                                      timeoutSeconds: config.jobTimeoutSeconds, memoryMB: config.jobMemoryMB)
        let done = converter.submit { convert.run(batch) }
        let started = Date()
        var lastBeat = started, lastProgress = Date.distantPast
        var sentProgress: (job: Int, percent: Int, step: String) = (-1, 0, "")
        var finished: [FinishedJob] = []
        var releasedFrom: Int?
        while true {
            let complete = done.wait(timeout: .now() + .milliseconds(Int(Self.flushInterval * 1000))) == .success
            for outcome in batch.takeOutcomes() {
                switch outcome {
                case .done(let f): finished.append(f)
                case .failed(let job, let code, _, _) where code == BatchConversion.lostCode:
                    // Canceled, deleted or rescued meanwhile: its row says so already; only the lock goes.
                    logger.info("conversion stopped: the job is no longer this runner's", metadata: job.logMetadata)
                    try db.settle([job]) { _ in }
                    batch.spans(of: job.id)?.abandon(outcome: "lost")
                case .failed(let job, let code, let message, let retry):
                    var meta = job.logMetadata
                    meta["docflow.job.attempt"] = "\(job.attempt)"
                    meta["docflow.error"] = "\(message)"
                    logger.info("conversion failed", metadata: meta)
                    let finishStart = DefaultTracerClock.now
                    if code == "sha256_mismatch", let upload = job.uploadID {
                        // Not the file that was meant: the upload goes (its object, its reserved
                        // bytes) before the failure is told, so a client told of it finds it gone.
                        if let key = try db.run({ try $0.uploadRelease(upload) }) { removeOutput(key) }
                    }
                    _ = try db.settle([job]) { try $0.jobFail(job, code: code, message: message, retry: retry, backoffSeconds: retry ? config.retryBackoffSeconds : 0) }
                    batch.spans(of: job.id)?.end(finishStart: finishStart, outcome: retry && job.attempt < job.maxAttempts ? "retry" : "failed",
                                                 error: (code, message))
                }
            }
            try flush(&finished, batch: batch, db: db)
            if complete { break }
            guard let current = batch.current() else { continue }
            let job = jobs[current.index]
            let now = Date()
            if now.timeIntervalSince(current.started) > config.jobTimeoutSeconds, !batch.currentExpired {
                // The converter is killed; the conversion thread reports the timeout, and the
                // batch goes on with a fresh converter.
                logger.warning("job timed out; its converter is killed", metadata: job.logMetadata)
                batch.expireCurrent()
            }
            if releasedFrom == nil, now.timeIntervalSince(started) > Self.batchPatience {
                let from = batch.stop()
                if from < jobs.count {
                    let unstarted = Array(jobs[from...])
                    try db.settle(unstarted) { try $0.jobRelease(unstarted) }
                    for j in unstarted { batch.spans(of: j.id)?.abandon(outcome: "released") }
                    stats.released += jobs.count - from
                }
                releasedFrom = from
            }
            if now.timeIntervalSince(lastBeat) > config.leaseSeconds / 3 {
                if try !db.run({ try $0.jobHeartbeat(job, leaseSeconds: config.leaseSeconds) }) {
                    logger.info("job was canceled, deleted or taken over while converting; its converter is stopped", metadata: job.logMetadata)
                    batch.abandonCurrent()
                }
                lastBeat = now
            }
            let p = current.progress
            if (current.index, p.0, p.1) != sentProgress, now.timeIntervalSince(lastProgress) >= 0.25, p.0 > 0 || !p.1.isEmpty {
                if try !db.run({ try $0.jobProgress(job, percent: min(p.0, 99), step: p.1) }) {
                    logger.info("job was canceled, deleted or taken over while converting; its converter is stopped", metadata: job.logMetadata)
                    batch.abandonCurrent()
                }
                sentProgress = (current.index, p.0, p.1)
                lastProgress = now
            }
        }
        return (batch.startedCount, batch.convertingSeconds)
    }

    /// Marks converted jobs done. Outputs of jobs that were no longer ours are removed; when the
    /// group would put a client over quota, each job is finished alone so only that one fails.
    private func flush(_ finished: inout [FinishedJob], batch: Batch, db: RunnerSession) throws {
        guard !finished.isEmpty else { return }
        defer { finished.removeAll() }
        stats.flushes += 1
        let finishStart = DefaultTracerClock.now
        do {
            let group = finished
            let mine = try db.settle(group.map(\.job)) { try $0.jobFinish(group) }
            for f in finished {
                var meta = f.job.logMetadata
                meta["docflow.job.attempt"] = "\(f.job.attempt)"
                if mine.contains(f.job.id) {
                    logger.info("job finished", metadata: meta)
                    batch.spans(of: f.job.id)?.end(finishStart: finishStart, outcome: "done", outputBytes: f.outputBytes)
                } else {
                    removeOutput(f.outputPath)
                    logger.info("job vanished or was taken over before it finished; output discarded", metadata: meta)
                    batch.spans(of: f.job.id)?.end(finishStart: finishStart, outcome: "lost")
                }
            }
        } catch let e as StoreError where e.isCheckViolation && finished.count > 1 {
            for f in finished {
                var one = [f]
                try flush(&one, batch: batch, db: db)
            }
        } catch let e as StoreError where e.isCheckViolation {
            let f = finished[0]
            removeOutput(f.outputPath)
            let message = "The output (\(f.outputBytes) bytes) would put you over your quota."
            _ = try db.settle([f.job]) { try $0.jobFail(f.job, code: "quota_exceeded", message: message, retry: false, backoffSeconds: 0) }
            batch.spans(of: f.job.id)?.end(finishStart: finishStart, outcome: "failed", error: ("quota_exceeded", message))
        }
    }
}

extension Runner {
    /// Removes an output no job will point at; one that cannot be removed now is an orphan the
    /// janitor finds.
    func removeOutput(_ key: String) {
        do { try mainStore.store().delete(key) } catch { mainStore.failed(error) }
    }
}

/// A long-lived thread that runs one batch of conversions at a time (a thread per job would cost a
/// clone and an 8 MB stack mapping each time).
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

