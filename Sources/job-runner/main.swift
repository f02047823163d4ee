// job-runner: started by cron every minute; works for about a minute, then exits.
//   job-runner [--drain] [--budget SECONDS]
import DocFlowCore
import DocFlowJobs
import DocFlowModel
import DocFlowS3
import DocFlowSandbox
import DocFlowStore
import DocFlowTelemetry
import DocFlowWebhooks
import Foundation
import Logging

let config = Config()
JSONLogHandler.bootstrap(config)
let logger = Logger(label: "docflow.runner")
let store: ObjectStoreFactory
do { store = try StorageBackend.factory(config) } catch {
    logger.critical("runner refuses to start", metadata: ["docflow.error": "\(String(reflecting: error))"])
    exit(2)
}
let runner = Runner(config: config, store: store, logger: logger)
var args = CommandLine.arguments.dropFirst()
while let arg = args.popFirst() {
    switch arg {
    case "--drain": runner.drain = true
    case "--budget": runner.budgetSeconds = args.popFirst().flatMap(Double.init) ?? runner.budgetSeconds
    default:
        FileHandle.standardError.write(Data("usage: job-runner [--drain] [--budget SECONDS]\n".utf8))
        exit(64)
    }
}
signal(SIGPIPE, SIG_IGN)
Allocator.reuseFreedBuffers()
// Webhooks as they come due, on a thread and a connection of their own, while this runner lives.
WebhookSender(config: config, logger: logger).startThread()
// Traces (when OTEL_EXPORTER_OTLP_ENDPOINT is set): exported in the background, the last ones
// before exit.
let telemetry = Telemetry.start(service: "docflow-job-runner", logger: logger)
// Stopped by a signal (an operator, a shutdown): the spans already ended are exported first; the
// job in hand is left to its lease, as when the runner is killed.
let stopSource = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
if let telemetry {
    signal(SIGTERM, SIG_IGN)
    stopSource.setEventHandler {
        telemetry.shutdown(timeout: 2)
        _exit(128 + SIGTERM)
    }
    stopSource.resume()
}
var status: Int32 = 0
do {
    try runner.run()
} catch let e as SandboxError {
    logger.critical("runner refuses to start", metadata: ["docflow.error": "\(e.description)"])
    status = 2
} catch {
    logger.error("runner stopped", metadata: ["docflow.error": "\(String(reflecting: error))"])
    status = 1
}
telemetry?.shutdown()
exit(status)
