// janitor: started by cron every few minutes; one idempotent cleanup pass, report on stdout.
// `janitor migrate` applies the embedded database migrations instead (at install and upgrade).
import DocFlowCore
import DocFlowJanitor
import DocFlowS3
import DocFlowStore
import DocFlowWebhooks
import Foundation
import Logging

let config = Config()
if CommandLine.arguments.dropFirst().first == "migrate" {
    do {
        let applied = try Migrator.migrate(try PGConnection(config.database))
        print(applied.isEmpty ? "database is up to date" : "applied migrations: \(applied.map(String.init).joined(separator: ", "))")
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("janitor migrate: \(error)\n".utf8))
        exit(1)
    }
}
JSONLogHandler.bootstrap(config)
let logger = Logger(label: "docflow.janitor")
do {
    let report = try Janitor(config: config, store: try StorageBackend.factory(config), logger: logger).run()
    // Webhooks due while no runner was up (the runners send them as they come due): a bounded pass.
    let db = try PGConnection(config.database)
    let sent = try WebhookSender(config: config, logger: logger).sendDue(db, until: Date().addingTimeInterval(30))
    db.close()
    print(String(report.description.dropLast()) + ", \"webhook_attempts\": \(sent)}")
} catch {
    logger.error("janitor pass failed", metadata: ["docflow.error": "\(String(reflecting: error))"])
    exit(1)
}
