import DocFlowCore
import Foundation
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// Traces over OTLP/HTTP (swift-otel), for the long- and short-lived processes alike: off unless
/// `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; the other
/// standard `OTEL_*` variables apply (service name, sampler, batch delay…). Only traces: logs stay
/// JSON lines on standard error and metrics stay on `/metrics`.
///
/// The processes are threads around blocking libpq and libfcgi calls, not Swift concurrency, so
/// the exporter's background work runs in a task of its own and `shutdown` waits for it from the
/// calling thread: a short-lived runner exports its last spans before it exits.
public final class Telemetry: @unchecked Sendable {
    private let group: ServiceGroup
    private let stopped = DispatchSemaphore(value: 0)
    private let logger: Logger

    /// Starts the exporter and makes swift-otel's tracer the global one; nil (tracing stays the
    /// no-op default) when no endpoint is set or the configuration is refused (which is logged).
    public static func start(service name: String, logger: Logger) -> Telemetry? {
        let env = ProcessInfo.processInfo.environment
        let endpoint = ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"].compactMap { env[$0] }.first { !$0.isEmpty }
        guard let endpoint else { return nil }
        var config = OTel.Configuration.default
        config.serviceName = name
        config.logs.enabled = false
        config.metrics.enabled = false
        config.traces.otlpExporter.protocol = .httpProtobuf
        config.diagnosticLogger = .custom(Logger(label: "docflow.otel"))
        config.diagnosticLogLevel = .warning
        do {
            let (tracer, service) = try OTel.makeTracingBackend(configuration: config)
            InstrumentationSystem.bootstrap(tracer)
            let t = Telemetry(group: ServiceGroup(services: [service], logger: Logger(label: "docflow.otel")), logger: logger)
            Task.detached { [t] in
                do { try await t.group.run() } catch { t.logger.warning("trace exporter stopped", metadata: ["docflow.error": "\(error)"]) }
                t.stopped.signal()
            }
            logger.info("traces on", metadata: ["docflow.otel.endpoint": "\(Self.redacted(endpoint))", "docflow.otel.service": "\(name)"])
            return t
        } catch {
            logger.error("traces off: the OTLP configuration was refused", metadata: ["docflow.error": "\(error)"])
            return nil
        }
    }

    private init(group: ServiceGroup, logger: Logger) {
        self.group = group
        self.logger = logger
    }

    /// Exports what is still buffered and stops; waits at most `timeout` seconds (a collector that
    /// does not answer must not keep a runner from exiting).
    public func shutdown(timeout: Double = 5) {
        Task.detached { [group] in await group.triggerGracefulShutdown() }
        if stopped.wait(timeout: .now() + timeout) == .timedOut {
            logger.warning("trace exporter did not finish in time; spans may be lost", metadata: ["docflow.seconds": "\(timeout)"])
        }
    }

    /// The endpoint without credentials or query (for the log line).
    static func redacted(_ endpoint: String) -> String {
        guard var c = URLComponents(string: endpoint) else { return "(unparsable)" }
        c.user = nil
        c.password = nil
        c.query = nil
        return c.string ?? "(unparsable)"
    }
}
