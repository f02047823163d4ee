import DocFlowCore
import Testing
import Tracing

/// W3C `traceparent` values as fcgi-app takes them from clients and the runner from the job's row.
/// (The propagation itself, through swift-otel, is shown end to end by test_traces.py.)
@Suite struct TraceContextTests {
    static let example = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test func theSpecExampleIsValid() {
        #expect(TraceContext.isValid(Self.example))
        #expect(TraceContext.traceID(Self.example) == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(TraceContext.isValid("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"))
    }

    @Test(arguments: [
        "", "00", "garbage",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // all-zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff (and unknown versions)
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",  // dashes in the wrong places
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",  // not hex
    ])
    func malformedValuesAreIgnored(_ value: String) {
        #expect(!TraceContext.isValid(value))
        #expect(TraceContext.traceID(value) == nil)
    }

    @Test func logLinesCarryTheTraceIDOnlyWhenThereIsOne() {
        let with = TraceContext.logMetadata(job: "j", traceparent: Self.example)
        #expect(with["docflow.job.id"] == "j")
        #expect(with["docflow.trace.id"] == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(TraceContext.logMetadata(job: "j", traceparent: nil)["docflow.trace.id"] == nil)
        #expect(TraceContext.logMetadata(job: "j", traceparent: "bad")["docflow.trace.id"] == nil)
    }

    @Test func withTracingOffNothingIsRecordedOrStored() {
        // No tracer bootstrapped in the tests: spans are no-ops and no traceparent is made.
        let span = TraceContext.startSpan("x", parent: Self.example)
        #expect(!span.isRecording)
        #expect(TraceContext.traceparent(of: span) == nil)
        span.end()
    }
}
