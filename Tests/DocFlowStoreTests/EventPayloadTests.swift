import DocFlowStore
import Testing

/// `docflow_events` payloads as the gateway splits them (migration m0007, and the form before it).
@Suite struct EventPayloadTests {
    let client = "6f1c1e9e-6a54-4c3f-9f0b-3d7a1f0c2b11"
    let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test func clientTraceAndJSON() {
        let e = EventPayload("\(client)|\(trace)|{\"type\" : \"job_done\", \"x\": \"a|b\"}")
        #expect(e == EventPayload(client: client, traceparent: trace, json: "{\"type\" : \"job_done\", \"x\": \"a|b\"}"))
    }

    @Test func anEmptyTraceIsNone() {
        #expect(EventPayload("\(client)||{\"type\": 1}") == EventPayload(client: client, traceparent: nil, json: "{\"type\": 1}"))
    }

    @Test func theFormBeforeTracesStillReads() {
        // "<client>|<json>": a bar inside the JSON is not taken for a trace separator.
        #expect(EventPayload("\(client)|{\"a\": \"x|y\"}") == EventPayload(client: client, traceparent: nil, json: "{\"a\": \"x|y\"}"))
    }

    @Test func noClientNoEvent() {
        #expect(EventPayload("{\"type\": 1}") == nil)
    }
}
