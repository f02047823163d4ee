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
        try db.listen("docflow_jobs")
        logger.info("runner started", metadata: ["docflow.runner.slot": "\(slot)", "docflow.runner.worker": "\(worker)"])
        let deadline = Date().addingTimeInterval(budgetSeconds)
        var lastRescue = Date.distantPast
        var handled = 0
        while Date() < deadline {
            if Date().timeIntervalSince(lastRescue) > 5 {
                let n = try db.jobRescue(backoffSeconds: config.retryBackoffSeconds)
                if n > 0 { logger.warning("rescued jobs of lost runners", metadata: ["docflow.jobs.rescued": "\(n)"]) }
                lastRescue = Date()
            }
            if let job = try db.jobClaim(leaseSeconds: config.leaseSeconds, worker: worker) {
                try process(job, db: db)
                handled += 1
                continue
            }
            if drain, try db.query("SELECT count(*) AS n FROM jobs WHERE status IN ('PENDING', 'PROCESSING')").first?.int("n") == 0 {
                break
            }
            _ = try db.notifications(timeout: min(1.0, max(0, deadline.timeIntervalSinceNow)))
        }
        logger.info("runner finished", metadata: ["docflow.runner.jobs": "\(handled)"])
        return handled
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

    private func process(_ job: ClaimedJob, db: PGConnection) throws {
        let meta: Logger.Metadata = ["docflow.job.id": "\(job.id.uuidString.lowercased())", "docflow.job.attempt": "\(job.attempt)"]
        guard let from = registry.format(named: job.inputFormat), let to = registry.format(named: job.outputFormat) else {
            try db.jobFail(job, code: "unknown_format", message: "This runner does not know the job's formats.",
                           retry: false, backoffSeconds: 0)
            return
        }
        guard let input = FileManager.default.contents(atPath: storage.absolute(job.inputPath)) else {
            try db.jobFail(job, code: "input_missing", message: "The uploaded file is gone; upload it again.",
                           retry: false, backoffSeconds: 0)
            return
        }
        let options = (try? JSONSerialization.jsonObject(with: Data(job.optionsJSON.utf8))) as? [String: Any] ?? [:]
        let box = ProgressBox()
        let context = ConversionContext(options: options) { box.set($0, $1) }
        let done = DispatchSemaphore(value: 0)
        let outcome = OutcomeBox()
        let hooks = config.testHooks
        let registry = self.registry
        let thread = Thread {
            if hooks { TestHooks.apply(options, context: context) }
            do {
                outcome.value = .success(try registry.convert(Array(input), from: from, to: to, context: context))
            } catch {
                outcome.value = .failure(error)
            }
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()

        let started = Date()
        var lastBeat = started, lastProgress = Date.distantPast, sentProgress = (0, "starting")
        while done.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            let now = Date()
            if now.timeIntervalSince(started) > config.jobTimeoutSeconds {
                let msg = "The conversion took longer than the \(Int(config.jobTimeoutSeconds)) s time limit."
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
            try finish(job, result: result, to: to, db: db, meta: meta)
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
    }

    /// Writes the output to tmp, renames it into place, then finishes the job (fenced). An output
    /// nobody will own (job deleted, or over quota) is removed again.
    private func finish(_ job: ClaimedJob, result: ConversionResult, to: Format, db: PGConnection, meta: Logger.Metadata) throws {
        let tmp = Storage.tmpPath(job: job.id, tag: "out\(job.attempt)")
        let dest = Storage.outputPath(client: job.clientID, job: job.id, attempt: job.attempt, ext: to.id)
        let data = Data(result.bytes)
        guard FileManager.default.createFile(atPath: storage.absolute(tmp), contents: data) else {
            try db.jobFail(job, code: "storage", message: "The output could not be written.", retry: true,
                           backoffSeconds: config.retryBackoffSeconds)
            return
        }
        try storage.commit(tmp: tmp, to: dest)
        do {
            if try db.jobFinish(job, outputPath: dest, outputBytes: Int64(result.bytes.count),
                                warningsJSON: result.warningsJSON, metadataJSON: result.metadataJSON) {
                logger.info("job finished", metadata: meta)
            } else {
                storage.remove(dest)
                logger.info("job vanished or was taken over before it finished; output discarded", metadata: meta)
            }
        } catch let e as StoreError where e.sqlState == "23514" {
            storage.remove(dest)
            try db.jobFail(job, code: "quota_exceeded",
                           message: "The output (\(result.bytes.count) bytes) would put you over your quota.",
                           retry: false, backoffSeconds: 0)
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
