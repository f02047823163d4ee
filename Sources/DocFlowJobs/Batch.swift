import DocFlowConvert
import DocFlowModel
import DocFlowStore
import Foundation

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
    private let lock = NSLock()
    private var outcomes: [JobOutcome] = []
    private var currentIndex: Int?
    private var currentStarted = Date()
    private var progress: (Int, String) = (0, "")
    private var stopped = false
    private var begun = 0
    private var seconds = 0.0

    init(jobs: [ClaimedJob]) { self.jobs = jobs }

    /// The conversion thread asks to start job `i`; false once the runner has stopped the batch.
    func begin(_ i: Int) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard !stopped else { return false }
        begun = i + 1
        currentIndex = i
        currentStarted = Date()
        progress = (0, "")
        return true
    }

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

/// The conversion thread's side of a batch: read each input, convert, write the output beside its
/// final name and rename it into place. No database access here.
struct BatchConversion: Sendable {
    let registry: FormatRegistry
    let storage: Storage
    let testHooks: Bool

    func run(_ batch: Batch) {
        for (i, job) in batch.jobs.enumerated() {
            guard batch.begin(i) else { return }
            let t0 = Date()
            let outcome = convert(job, batch: batch)
            batch.report(outcome, seconds: Date().timeIntervalSince(t0))
        }
    }

    private func convert(_ job: ClaimedJob, batch: Batch) -> JobOutcome {
        guard let from = registry.format(named: job.inputFormat), let to = registry.format(named: job.outputFormat) else {
            return .failed(job, code: "unknown_format", message: "This runner does not know the job's formats.", retry: false)
        }
        let inputPath = storage.absolute(job.inputPath)
        guard access(inputPath, R_OK) == 0 else {
            return .failed(job, code: "input_missing", message: "The uploaded file is gone; upload it again.", retry: false)
        }
        let options = (try? JSONSerialization.jsonObject(with: Data(job.optionsJSON.utf8))) as? [String: Any] ?? [:]
        let context = ConversionContext(options: options) { batch.setProgress($0, $1) }
        if testHooks { TestHooks.apply(options, context: context) }
        // The output is written as it is made, to a temporary file beside its final name (a rename
        // across folders takes the filesystem-wide rename lock, which serialised two runners —
        // bench/README.md), renamed into place once whole.
        let dest = Storage.outputPath(client: job.clientID, job: job.id, attempt: job.attempt, ext: to.id)
        let result: ConversionSummary
        do {
            var summary: ConversionSummary? = nil
            try storage.writeAtomically(to: dest) { sink in
                summary = try registry.convert(.file(inputPath), from: from, to: to, sink: sink, context: context)
            }
            result = summary!
        } catch let e as ConversionError {
            return .failed(job, code: e.code.rawValue, message: e.message, retry: false)
        } catch is SinkError {
            return .failed(job, code: "storage", message: "The output could not be written.", retry: true)
        } catch {
            return .failed(job, code: "internal", message: "The conversion failed unexpectedly; it will be retried.", retry: true)
        }
        return .done(FinishedJob(job: job, outputPath: dest, outputBytes: Int64(result.byteCount),
                                 warningsJSON: result.warningsJSON, metadataJSON: result.metadataJSON))
    }
}
