import DocFlowCore
import DocFlowStore
import Foundation

/// This process's request figures for `/metrics`, shared by all threads: requests by route and
/// status, their duration per route, API errors by code.
final class Metrics: @unchecked Sendable {
    private let lock = NSLock()
    private var requests = LabeledSeries<Double> { 0 }
    private var durations = LabeledSeries<Histogram> { Histogram(bounds: Histogram.seconds) }
    private var errors = LabeledSeries<Double> { 0 }

    /// Methods that get a label of their own; any other (a client may send any token) is "other",
    /// so no request can add series without bound.
    static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    func record(route: String, method rawMethod: String, status: Int, errorCode: String?, seconds: Double) {
        let method = Self.methods.contains(rawMethod) ? rawMethod : "other"
        lock.lock(); defer { lock.unlock() }
        requests.update([("route", route), ("method", method), ("status", String(status))]) { $0 += 1 }
        durations.update([("route", route), ("method", method)]) { $0.observe(seconds) }
        if let errorCode { errors.update([("code", errorCode)]) { $0 += 1 } }
    }

    func write(to out: inout PromText) {
        lock.lock(); defer { lock.unlock() }
        out.values("docflow_http_requests_total", "counter", "Requests this fcgi-app answered, by route template, method and status.",
                   requests.sorted)
        out.histograms("docflow_http_request_duration_seconds", "Time this fcgi-app took to answer, by route template and method.",
                       durations.sorted)
        out.values("docflow_api_errors_total", "counter", "JSON errors this fcgi-app answered, by error code.", errors.sorted)
        let quota = errors.series.filter { $0.labels.first?.1 == "quota_exceeded" }.map(\.value).reduce(0, +)
        out.values("docflow_quota_refusals_total", "counter", "Uploads and upload slots refused because they would cross the client's quota.",
                   [([], quota)])
    }
}

/// The queue's figures, cluster-wide, folded from the job history (`job_events`) at each scrape:
/// runners are short-lived and write their part of the story into PostgreSQL with every state
/// change anyway, so this long-running process reads it back instead of runners pushing figures
/// somewhere (README: Metrics). Counts start at the first scrape of this process (a counter reset
/// to Prometheus) and take in every event committed since, exactly once.
final class JobMetrics: @unchecked Sendable {
    private let lock = NSLock()
    /// The transaction horizon read up to, nil before the first scrape.
    private var horizon: String?
    private var events = LabeledSeries<Double> { 0 }
    private var wait = LabeledSeries<Histogram> { Histogram(bounds: Histogram.seconds) }
    private var conversion = LabeledSeries<Histogram> { Histogram(bounds: Histogram.seconds) }
    private var inputBytes = LabeledSeries<Histogram> { Histogram(bounds: Histogram.bytes) }
    private var outputBytes = LabeledSeries<Histogram> { Histogram(bounds: Histogram.bytes) }
    private var attempts = LabeledSeries<Histogram> { Histogram(bounds: Histogram.attempts) }
    private var failures = LabeledSeries<Double> { 0 }

    /// Reads the events committed since the last scrape (one scrape at a time).
    func refresh(_ db: PGConnection) throws {
        lock.lock(); defer { lock.unlock() }
        let now = try db.jobEventsHorizon()
        guard let from = horizon else { horizon = now; return }
        for e in try db.jobEventSamples(from: from, to: now) { fold(e) }
        horizon = now
    }

    private func fold(_ e: JobEventSample) {
        let pair = [("pair", e.pair)]
        events.update(pair + [("event", e.kind)]) { $0 += 1 }
        switch e.kind {
        case "claimed":
            if let s = e.seconds { wait.update(pair) { $0.observe(s) } }
        case "done", "failed", "retried", "rescued":
            if let s = e.seconds { conversion.update(pair + [("outcome", e.kind)]) { $0.observe(s) } }
            if e.kind == "done" {
                if let b = e.inputBytes { inputBytes.update(pair) { $0.observe(Double(b)) } }
                if let b = e.outputBytes { outputBytes.update(pair) { $0.observe(Double(b)) } }
            }
            if e.kind == "done" || e.kind == "failed" { attempts.update(pair + [("outcome", e.kind)]) { $0.observe(Double(e.attempt)) } }
            if e.kind != "done" { failures.update(pair + [("event", e.kind), ("code", e.code ?? "unknown")]) { $0 += 1 } }
        default:
            break
        }
    }

    func write(to out: inout PromText) {
        lock.lock(); defer { lock.unlock() }
        out.values("docflow_job_events_total", "counter",
                   "Job state changes by conversion pair and event (queued, claimed, retried, rescued, done, failed).", events.sorted)
        out.histograms("docflow_job_queue_wait_seconds", "Time a job waited, claimable, before a runner took it, by pair.", wait.sorted)
        out.histograms("docflow_job_conversion_seconds", "Time from a runner's claim to the attempt's end, by pair and outcome.",
                       conversion.sorted)
        out.histograms("docflow_job_input_bytes", "Input size of finished jobs, by pair.", inputBytes.sorted)
        out.histograms("docflow_job_output_bytes", "Output size of finished jobs, by pair.", outputBytes.sorted)
        out.histograms("docflow_job_attempts", "Attempts a job took, by pair and final outcome.", attempts.sorted)
        out.values("docflow_job_failures_total", "counter",
                   "Failed attempts by pair, what followed (retried, rescued, failed) and error code.", failures.sorted)
    }
}
