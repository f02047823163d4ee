import Instrumentation
import Logging
import Tracing

/// W3C Trace Context (`traceparent`, https://www.w3.org/TR/trace-context/) as Doc Flow carries it
/// between processes: from a client's request header into fcgi-app's span, into the job's row
/// (`jobs.trace_context`), out to the runner that claims it and to the gateway with each event.
/// Spans are started through swift-distributed-tracing's global tracer: a no-op one (nothing
/// made, nothing stored) unless an executable bootstrapped swift-otel (`DocFlowTelemetry`).
public enum TraceContext {
    /// Whether `value` is a version-00 `traceparent`: `00-<32 hex>-<16 hex>-<2 hex>`, lower case,
    /// with neither id all zeros. Anything else is ignored (the W3C rule: restart the trace).
    public static func isValid(_ value: String) -> Bool {
        let b = Array(value.utf8)
        guard b.count == 55, b[0] == 0x30, b[1] == 0x30, b[2] == 0x2D, b[35] == 0x2D, b[52] == 0x2D else { return false }
        func hex(_ r: Range<Int>) -> Bool { b[r].allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) } }
        func zero(_ r: Range<Int>) -> Bool { b[r].allSatisfy { $0 == 0x30 } }
        return hex(3..<35) && hex(36..<52) && hex(53..<55) && !zero(3..<35) && !zero(36..<52)
    }

    /// The trace id (32 hex digits) of a valid `traceparent`.
    public static func traceID(_ traceparent: String?) -> String? {
        guard let t = traceparent, isValid(t) else { return nil }
        return String(t.dropFirst(3).prefix(32))
    }

    /// The context to start a span in: the remote parent a valid `traceparent` (and its
    /// `tracestate`) names, or a new trace's top level.
    public static func context(traceparent: String?, tracestate: String? = nil) -> InstrumentationContext {
        var context = InstrumentationContext.topLevel
        guard let traceparent, isValid(traceparent) else { return context }
        var carrier = ["traceparent": traceparent]
        if let tracestate, !tracestate.isEmpty, tracestate.utf8.count <= 512 { carrier["tracestate"] = tracestate }
        InstrumentationSystem.instrument.extract(carrier, into: &context, using: HeaderExtractor())
        return context
    }

    /// The `traceparent` naming `span` as the parent of what follows; nil when tracing is off.
    public static func traceparent(of span: any Span) -> String? {
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(span.context, into: &carrier, using: HeaderInjector())
        return carrier["traceparent"].flatMap { isValid($0) ? $0 : nil }
    }

    /// Starts a span in the context of `traceparent` (a new trace when it is nil or invalid).
    public static func startSpan(_ name: String, parent traceparent: String?, kind: SpanKind = .internal,
                                 at instant: some TracerInstant = DefaultTracerClock.now) -> any Span {
        Tracing.startSpan(name, context: context(traceparent: traceparent), ofKind: kind, at: instant)
    }

    /// A job's id and, when it has one, its trace id: the keys every log line about a job carries.
    public static func logMetadata(job id: String, traceparent: String?) -> Logger.Metadata {
        var m: Logger.Metadata = ["docflow.job.id": "\(id)"]
        if let t = traceID(traceparent) { m["docflow.trace.id"] = "\(t)" }
        return m
    }

    struct HeaderExtractor: Extractor {
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    }

    struct HeaderInjector: Injector {
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
    }
}
