import DocFlowCore
import DocFlowStore
import Foundation
import Logging
import Tracing

/// The gateway's one LISTEN connection. Payloads are `<client_id>|<traceparent>|<event JSON>`
/// (`EventPayload`); the JSON is forwarded untouched to that client's room, in a span of the job's
/// trace when tracing is on. Reconnects with backoff when the database goes.
struct NotificationRelay {
    let config: Config
    let hub: Hub
    let logger: Logger

    func run() {
        var backoff = 0.2
        while true {
            do {
                let db = try PGConnection(config.database)
                try db.listen("docflow_events")
                logger.info("listening on docflow_events")
                backoff = 0.2
                while true {
                    for n in try db.notifications(timeout: 30) {
                        guard let event = EventPayload(n.payload) else { continue }
                        relay(event)
                    }
                    if !db.isHealthy { break }
                }
            } catch {
                logger.warning("database link lost; clients will reconnect", metadata: ["docflow.error": "\(error)"])
            }
            hub.dropAll()
            Thread.sleep(forTimeInterval: backoff)
            backoff = min(backoff * 2, 5)
        }
    }

    /// Sends one event to its client's sockets; a `ws event` span (a producer: the sockets are
    /// its consumers) under the job's trace records which event and how many sockets got it.
    func relay(_ event: EventPayload) {
        guard let traceparent = event.traceparent, TraceContext.isValid(traceparent) else {
            hub.publish(client: event.client, text: String(event.json))
            return
        }
        let span = TraceContext.startSpan("ws event", parent: traceparent, kind: .producer)
        defer { span.end() }
        guard span.isRecording else {
            hub.publish(client: event.client, text: String(event.json))
            return
        }
        let sockets = hub.publish(client: event.client, text: String(event.json))
        let fields = (try? JSONSerialization.jsonObject(with: Data(event.json.utf8))) as? [String: Any]
        span.updateAttributes { a in
            if let type = fields?["type"] as? String { a["docflow.event"] = type }
            if let id = (fields?["job"] as? [String: Any])?["id"] as? String { a["docflow.job.id"] = id }
            a["docflow.ws.sockets"] = sockets
        }
    }
}
