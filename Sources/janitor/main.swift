// janitor: started by cron every few minutes; one idempotent cleanup pass, report on stdout.
import DocFlowJobs
import DocFlowStore
import Foundation
import Logging

let config = Config()
JSONLogHandler.bootstrap(config)
let logger = Logger(label: "docflow.janitor")
do {
    let report = try Janitor(config: config, logger: logger).run()
    print(report)
} catch {
    logger.error("janitor pass failed", metadata: ["docflow.error": "\(String(reflecting: error))"])
    exit(1)
}
