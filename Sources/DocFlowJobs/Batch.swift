import DocFlowConvert
import DocFlowCore
import DocFlowCrypto
import DocFlowModel
import DocFlowSandbox
import DocFlowStore
import Foundation
import Logging

/// What the conversion thread reports for one job.
enum JobOutcome {
    /// Converted; the output is in place under its attempt's name, waiting to be marked done.
    case done(FinishedJob)
    /// Not converted, for a reason the runner records (retry or fail for good).
    case failed(ClaimedJob, code: String, message: String, retry: Bool)
}

/// One claimed batch, shared by the runner thread (database) and the conversion thread (files and
/// CPU). Everything goes through the lock; neither side blocks on the other.
final class Batch: @unchecked Sendable {
    let jobs: [ClaimedJob]
    /// Each job's spans (nil when tracing is off), by index as `jobs`.
    let spans: [JobSpans?]
    private let lock = NSLock()
    private var outcomes: [JobOutcome] = []
    private var currentIndex: Int?
    private var currentStarted = Date()
    private var progress: (Int, String) = (0, "")
    private var stopped = false
    private var begun = 0
    private var seconds = 0.0
    private var workerPID: pid_t?
    private var expired = false
    private var abandoned = false

    init(jobs: [ClaimedJob], spans: [JobSpans?]) {
        self.jobs = jobs
        self.spans = spans
    }

    /// The spans of the batch's job with this id.
    func spans(of id: UUID) -> JobSpans? {
        jobs.firstIndex { $0.id == id }.flatMap { spans[$0] }
    }

    /// The conversion thread asks to start job `i`; false once the runner has stopped the batch.
    func begin(_ i: Int) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard !stopped else { return false }
        begun = i + 1
        currentIndex = i
        currentStarted = Date()
        progress = (0, "")
        expired = false
        abandoned = false
        workerPID = nil
        return true
    }

    /// The conversion thread names the process converting the current job.
    func setWorker(_ pid: pid_t?) {
        lock.lock(); defer { lock.unlock() }
        workerPID = pid
        if expired || abandoned, let pid { kill(pid, SIGKILL) }  // stopped while a converter was being started
    }

    /// The runner's time limit ran out for the current job: its converter is killed (SIGKILL);
    /// the conversion thread then reports the timeout. Once per job.
    func expireCurrent() {
        lock.lock(); defer { lock.unlock() }
        guard currentIndex != nil, !expired else { return }
        expired = true
        if let pid = workerPID { kill(pid, SIGKILL) }
    }

    /// Whether the current job's converter was killed for its time limit.
    var currentExpired: Bool { lock.lock(); defer { lock.unlock() }; return expired }

    /// The current job is no longer this runner's (canceled, deleted, or taken over by a rescuer):
    /// its converter is killed (SIGKILL); the conversion thread reports it as `lost`. Once per job.
    func abandonCurrent() {
        lock.lock(); defer { lock.unlock() }
        guard currentIndex != nil, !abandoned else { return }
        abandoned = true
        if let pid = workerPID { kill(pid, SIGKILL) }
    }

    /// Whether the current job's converter was killed because the job is no longer ours.
    var currentAbandoned: Bool { lock.lock(); defer { lock.unlock() }; return abandoned }

    func report(_ outcome: JobOutcome, seconds s: Double) {
        lock.lock(); defer { lock.unlock() }
        outcomes.append(outcome)
        currentIndex = nil
        seconds += s
    }

    func setProgress(_ p: Int, _ step: String) {
        lock.lock(); defer { lock.unlock() }
        progress = (p, step)
    }

    /// Outcomes reported since the last call.
    func takeOutcomes() -> [JobOutcome] {
        lock.lock(); defer { lock.unlock() }
        defer { outcomes.removeAll() }
        return outcomes
    }

    /// The job being converted now, when it started, and its last progress.
    func current() -> (index: Int, started: Date, progress: (Int, String))? {
        lock.lock(); defer { lock.unlock() }
        return currentIndex.map { ($0, currentStarted, progress) }
    }

    /// No further job of the batch will start; returns the index of the first one not started.
    func stop() -> Int {
        lock.lock(); defer { lock.unlock() }
        stopped = true
        return begun
    }

    var startedCount: Int { lock.lock(); defer { lock.unlock() }; return begun }
    var convertingSeconds: Double { lock.lock(); defer { lock.unlock() }; return seconds }
}

/// The conversion thread's side of a batch: for each job, open the input, begin the output, hand
/// both descriptors to a sandboxed converter, relay its progress, and store the output when it
/// reports success. No database access here.
struct BatchConversion: Sendable {
    let registry: FormatRegistry
    /// The conversion thread's object store.
    let stores: ThreadStore
    let pool: SandboxPool
    let timeoutSeconds: Double
    let memoryMB: Int

    func run(_ batch: Batch) {
        for (i, job) in batch.jobs.enumerated() {
            guard batch.begin(i) else { return }
            let t0 = Date()
            let steps = JobSteps(batch.spans[i], first: "read")
            let outcome = convert(job, batch: batch, steps: steps)
            if case .failed(_, let code, _, _) = outcome { steps.close(error: code) } else { steps.close(error: nil) }
            batch.report(outcome, seconds: Date().timeIntervalSince(t0))
        }
    }

    private func convert(_ job: ClaimedJob, batch: Batch, steps: JobSteps) -> JobOutcome {
        guard let from = registry.format(named: job.inputFormat), let to = registry.format(named: job.outputFormat) else {
            return .failed(job, code: "unknown_format", message: "This runner does not know the job's formats.", retry: false)
        }
        let store: any ObjectStore
        do { store = try stores.store() } catch {
            return storageFailed(job, error, what: "The file store could not be reached")
        }
        // The input: the stored file itself (local backend), or a private copy streamed from the
        // object store into this host's work folder, already unlinked.
        let input: Int32
        do { input = try store.openForReading(job.inputPath) } catch let e as StorageError where e.isNotFound {
            return .failed(job, code: "input_missing", message: "The uploaded file is gone; upload it again.", retry: false)
        } catch {
            return storageFailed(job, error, what: "The uploaded file could not be read")
        }
        defer { close(input) }
        // A direct upload whose client declared its SHA-256: the stored bytes must match it.
        if let declared = job.declaredSHA256 {
            guard let actual = Self.sha256(of: input) else {
                return storageFailed(job, StorageError("A file could not be read.", cause: "reading the input to hash it"), what: "The uploaded file could not be read")
            }
            if actual != declared {
                return .failed(job, code: "sha256_mismatch",
                               message: "The stored file's SHA-256 is \(actual), not the declared \(declared): it is not the file that was meant. The upload was removed; upload it again.",
                               retry: false)
            }
        }
        let dest = Storage.outputPath(client: job.clientID, job: job.id, attempt: job.attempt, ext: to.id)
        // A runner killed mid-job may have left its attempt's output: partly written (a part file),
        // or whole but never marked done (killed between storing it and the finish). No row will
        // point at an earlier attempt's output once this attempt is claimed, so this attempt
        // removes both; a live runner that stalled past its lease and stores one later is refused
        // at its fenced finish and removes its own.
        if job.attempt > 1 {
            for earlier in max(1, job.attempt - 5)..<job.attempt {
                let key = Storage.outputPath(client: job.clientID, job: job.id, attempt: earlier, ext: to.id)
                store.discardPartial(key)
                try? store.delete(key)
            }
        }
        // The output: a part file beside its final name renamed into place (local), or a private
        // file sent to the object store (S3), once the converter says it is whole.
        let output: any ObjectWriter
        do { output = try store.beginWrite(dest) } catch {
            return storageFailed(job, error, what: "The output could not be written")
        }
        steps.next("convert")
        let worker: SandboxWorker
        do { worker = try pool.worker(for: job.clientID) } catch {
            output.discard()
            return .failed(job, code: "sandbox", message: "No converter could be started; the job will be retried.", retry: true)
        }
        batch.setWorker(worker.pid)
        let request = JobRequest(from: from.id, to: to.id, optionsJSON: job.optionsJSON)
        var result: JobResult?
        if worker.channel.send(Channel.Frame.job, request.encoded, fds: [input, output.fd]) {
            while let frame = worker.channel.receive() {
                if frame.type == Channel.Frame.progress, let p = ProgressFrame.decode(frame.payload) {
                    batch.setProgress(p.0, p.1)
                    continue
                }
                result = JobResult(type: frame.type, payload: frame.payload)
                break
            }
        }
        batch.setWorker(nil)
        guard let result else {
            // The link ended before a result: the converter crashed, was killed for its time or a
            // limit, or closed the link. It is killed (with anything it started) and replaced.
            let expired = batch.currentExpired, abandoned = batch.currentAbandoned
            let (status, killedHere) = worker.settle(grace: expired || abandoned ? 0 : 1)
            pool.discard(worker)
            output.discard()
            if abandoned {
                return .failed(job, code: Self.lostCode, message: "The job was canceled, deleted or taken over while converting.", retry: false)
            }
            if expired {
                return .failed(job, code: "timeout", message: "The conversion took longer than the \(Int(timeoutSeconds)) s time limit.", retry: true)
            }
            return crashed(job, from: from, to: to, status: killedHere ? nil : status)
        }
        pool.finished(worker)
        switch result {
        case .done(let bytes, let warnings, let metadata):
            steps.next("write")
            do { try output.commit() } catch {
                return storageFailed(job, error, what: "The output could not be stored")
            }
            return .done(FinishedJob(job: job, outputPath: dest, outputBytes: bytes, warningsJSON: warnings, metadataJSON: metadata))
        case .failed(let code, let retry, let message):
            output.discard()
            return .failed(job, code: code, message: message, retry: retry)
        }
    }

    /// The outcome's code for a conversion stopped because the job stopped being this runner's:
    /// nothing is recorded for it (the fenced write would change nothing).
    static let lostCode = "lost"

    /// The SHA-256 of a whole file, read from its start; the offset is put back to 0. Nil on a read error.
    static func sha256(of fd: Int32) -> String? {
        let hasher = SHA256Hasher()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var offset: off_t = 0
        while true {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { break }
            chunk.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            offset += off_t(n)
        }
        return hasher.finalizeHex()
    }

    /// A storage call failed: the job is retried with backoff (as every storage error is: the
    /// store may be back by then), with the reason users can read; the cause goes to the log.
    private func storageFailed(_ job: ClaimedJob, _ error: Error, what: String) -> JobOutcome {
        stores.failed(error)
        let message = "\(what); the job will be retried."
        return .failed(job, code: "storage", message: job.attempt < job.maxAttempts ? message : "\(what).", retry: true)
    }

    /// Signals that say the converter itself failed on this input (a bad access, a failed check, an
    /// allocation past its memory limit), so a second attempt that ends the same way is the last.
    /// SIGKILL (the OOM killer, an operator) and SIGXCPU (a busy machine) are retried to the end.
    static let deterministicSignals: [Int32: String] = [SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS", SIGILL: "SIGILL",
                                                        SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT", SIGFPE: "SIGFPE"]

    /// The failed attempt of a converter that stopped without a result: retried, unless it died of
    /// the same deterministic signal as the previous attempt did.
    private func crashed(_ job: ClaimedJob, from: Format, to: Format, status: Int32?) -> JobOutcome {
        let (sig, code) = status.map(SandboxWorker.describe) ?? (nil, nil)
        if let sig, let name = Self.deterministicSignals[sig], let previous = job.previousError,
           previous.code == "converter_crashed", previous.message.contains("(\(name)") {
            let memory = sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE ? "" : " or ran past its \(memoryMB) MiB memory limit"
            return .failed(job, code: "converter_crashed",
                           message: "The \(from.name) → \(to.name) converter crashed on this file twice (\(name)): it failed a check\(memory). "
                               + "It was not tried a third time.", retry: false)
        }
        var how: String
        switch sig {
        case .none where status == nil: how = "closed its link without a result and was stopped"
        case .some(SIGKILL): how = "was killed (SIGKILL)"
        case .some(SIGXCPU): how = "ran out of CPU time (SIGXCPU)"
        case .some(SIGSEGV): how = "crashed (SIGSEGV)"
        case .some(let s) where Self.deterministicSignals[s] != nil:
            how = "stopped on a failed check or an allocation past its \(memoryMB) MiB memory limit (\(Self.deterministicSignals[s]!), signal \(s))"
        case .some(let s): how = "stopped on signal \(s)"
        case .none: how = "exited (code \(code ?? 0)) without a result"
        }
        let message = job.attempt < job.maxAttempts
            ? "Attempt \(job.attempt) of \(job.maxAttempts): the \(from.name) → \(to.name) converter \(how); the job will be retried."
            : "Gave up after \(job.attempt) attempts: the \(from.name) → \(to.name) converter \(how)."
        return .failed(job, code: "converter_crashed", message: message, retry: true)
    }
}

/// One thread's object store, made on first use and made again after a failure (a store that
/// went away may come back on a new connection). Used by one thread at a time.
final class ThreadStore: @unchecked Sendable {
    private let factory: ObjectStoreFactory
    private let logger: Logger
    private var current: (any ObjectStore)?

    init(factory: @escaping ObjectStoreFactory, logger: Logger) {
        self.factory = factory
        self.logger = logger
    }

    func store() throws -> any ObjectStore {
        if let s = current { return s }
        let s = try factory()
        current = s
        return s
    }

    /// Logs a storage failure (its cause, never a credential) and drops the store.
    func failed(_ error: Error) {
        logger.warning("storage call failed", metadata: ["docflow.error": "\(String(reflecting: error))"])
        current = nil
    }
}
