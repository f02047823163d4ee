/// A `docflow_events` notification (migration m0007): `<client_id>|<traceparent or empty>|<event
/// JSON>`, or `<client_id>|<event JSON>` as sent before m0007. The JSON goes to the client's
/// sockets untouched; the trace context lets the gateway's span join the job's trace.
public struct EventPayload: Equatable, Sendable {
    public var client: String
    public var traceparent: String?
    public var json: Substring

    /// Nil when the payload has no client prefix.
    public init?(_ payload: String) {
        guard let bar = payload.firstIndex(of: "|") else { return nil }
        client = String(payload[..<bar])
        var rest = payload[payload.index(after: bar)...]
        traceparent = nil
        // The JSON starts with "{": anything before the next bar is the trace context.
        if rest.first != "{", let second = rest.firstIndex(of: "|") {
            let t = String(rest[..<second])
            traceparent = t.isEmpty ? nil : t
            rest = rest[rest.index(after: second)...]
        }
        json = rest
    }

    public init(client: String, traceparent: String?, json: Substring) {
        self.client = client
        self.traceparent = traceparent
        self.json = json
    }
}
