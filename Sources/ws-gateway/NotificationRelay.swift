import DocFlowCore
import DocFlowStore
import Foundation
import Logging

/// The gateway's one LISTEN connection. Payloads are `<client_id>|<event JSON>`; the JSON is
/// forwarded untouched to that client's room. Reconnects with backoff when the database goes.
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
                        guard let bar = n.payload.firstIndex(of: "|") else { continue }
                        hub.publish(client: String(n.payload[..<bar]), text: String(n.payload[n.payload.index(after: bar)...]))
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
}
