import DocFlowCore
import DocFlowStore
import Foundation
import Logging
import Tracing

/// The spans of one attempt at a job (README: Traces): `job`, a child of the span that made the
/// job (its stored trace context, so an upload and every attempt at it are one trace), with
/// `claim`, `read`, `convert`, `write` and `finish` children timed where they happen — the claim
/// and the finish on the runner's thread, the rest on the conversion thread. Attributes: the
/// pair, the bytes in and out, the attempt, the outcome (`done`, `retry`, `failed`, `released`,
/// `lost`) and the error code.
final class JobSpans: Sendable {
    private let root: any Span
    /// The root's `traceparent` (the trace id on log lines, when the job had no stored context).
    let traceparent: String?

    /// Nil when tracing is off or the trace is not sampled: nothing more is recorded then.
    init?(job: ClaimedJob, claimed: (start: DefaultTracerClock.Instant, end: DefaultTracerClock.Instant), runner: String) {
        let root = TraceContext.startSpan("job", parent: job.traceContext, kind: .consumer, at: claimed.start)
        guard root.isRecording else {
            root.end()
            return nil
        }
        root.updateAttributes { a in
            a["docflow.job.id"] = job.id.uuidString.lowercased()
            a["docflow.pair"] = "\(job.inputFormat)>\(job.outputFormat)"
            a["docflow.attempt"] = job.attempt
            a["docflow.max_attempts"] = job.maxAttempts
            a["docflow.input.bytes"] = Int(job.inputBytes)
            a["docflow.runner"] = runner
        }
        self.root = root
        traceparent = TraceContext.traceparent(of: root)
        child("claim", from: claimed.start, to: claimed.end)
    }

    /// A finished step of the attempt, from `start` to `end`; an error code marks it failed.
    func child(_ name: String, from start: DefaultTracerClock.Instant, to end: DefaultTracerClock.Instant = DefaultTracerClock.now,
               error code: String? = nil, attributes: SpanAttributes = [:]) {
        let span = startSpan(name, context: root.context, ofKind: .internal, at: start)
        span.attributes = attributes
        if let code {
            span.attributes["docflow.error.code"] = code
            span.setStatus(SpanStatus(code: .error, message: code))
        }
        span.end(at: end)
    }

    /// Ends the attempt: its `finish` step (from `finishStart`), its outcome, and the output's size
    /// or the error.
    func end(finishStart: DefaultTracerClock.Instant, outcome: String, outputBytes: Int64? = nil,
             error: (code: String, message: String)? = nil) {
        child("finish", from: finishStart)
        root.updateAttributes { a in
            a["docflow.outcome"] = outcome
            if let outputBytes { a["docflow.output.bytes"] = Int(outputBytes) }
            if let error { a["docflow.error.code"] = error.code }
        }
        if let error { root.setStatus(SpanStatus(code: .error, message: error.message)) }
        root.end()
    }

    /// The attempt gave way without a finish of its own (released unstarted, or lost to a rescuer).
    func abandon(outcome: String) {
        root.attributes["docflow.outcome"] = outcome
        root.end()
    }
}

/// The conversion thread's steps of one job: each `next` ends the step before as a child span and
/// starts another; `close` ends the last one (failed with the outcome's error code, if any).
final class JobSteps {
    private let spans: JobSpans?
    private var name: String
    private var start = DefaultTracerClock.now

    init(_ spans: JobSpans?, first: String) {
        self.spans = spans
        name = first
    }

    func next(_ step: String) {
        guard let spans else { return }
        let now = DefaultTracerClock.now
        spans.child(name, from: start, to: now)
        name = step
        start = now
    }

    func close(error code: String?) { spans?.child(name, from: start, error: code) }
}

extension ClaimedJob {
    /// Its id and trace id, for every log line about it.
    var logMetadata: Logger.Metadata {
        TraceContext.logMetadata(job: id.uuidString.lowercased(), traceparent: traceContext)
    }
}
