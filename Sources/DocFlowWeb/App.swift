import DocFlowCore
import DocFlowFormats
import DocFlowStore
import Foundation
import Logging
import Tracing

/// The HTTP API. One `App` per process; one `App.Worker` per thread (it owns that thread's
/// database connection and libmagic handle).
public final class App: @unchecked Sendable {
    public let config: Config
    /// The formats and conversions on offer (the converters themselves are the runners').
    public let formats: ConversionMatrix
    /// This host's work folder (upload part files in `tmp/`).
    public let storage: Storage
    /// Makes each thread's object store (the local directory or S3: `StorageBackend`).
    let storeFactory: ObjectStoreFactory
    let logger: Logger
    let metrics = Metrics()
    let jobMetrics = JobMetrics()
    /// Requests of `POST /api/convert` waiting for their job.
    let syncWaits = SyncWaits()

    /// The tag of this process's upload part files (`tmp/{job}-upload{pid}.part`): a part file
    /// whose process is gone belongs to an upload that process was killed in.
    static let uploadTag = "upload\(getpid())"

    /// Removes the part files of uploads whose fcgi-app process is gone (killed mid-upload: its
    /// files were never removed); returns how many. At start, before any request is served.
    @discardableResult
    public func removeAbandonedUploads() -> Int {
        let tmp = storage.absolute("tmp")
        var removed = 0
        for f in (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? [] where f.hasSuffix(".part") {
            guard let r = f.range(of: "-upload", options: .backwards) else { continue }
            let digits = f[r.upperBound...].dropLast(".part".count)
            guard let pid = pid_t(digits), pid > 0 else { continue }
            if pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH) {
                if unlink("\(tmp)/\(f)") == 0 { removed += 1 }
            }
        }
        if removed > 0 { logger.warning("removed the part files of interrupted uploads", metadata: ["docflow.files": "\(removed)"]) }
        return removed
    }

    public init(config: Config, formats: ConversionMatrix = .standard, store: ObjectStoreFactory? = nil,
                logger: Logger = Logger(label: "docflow.web")) {
        self.config = config
        self.formats = formats
        self.storage = Storage(config: config)
        self.storeFactory = store ?? LocalStore.factory(root: config.storage)
        self.logger = logger
        do {
            try storage.prepare()
        } catch {
            logger.error("storage folders cannot be created", metadata: ["docflow.error": "\(error)"])
        }
    }

    /// A thread's handle on the app: its connection (reconnected on demand) and sniffer.
    public final class Worker {
        let app: App
        let sniffer = Sniffer()
        private var connection: PGConnection?
        private var objectStore: (any ObjectStore)?
        /// The template of the route the current request matched (the metrics' label).
        private var matchedRoute: String?
        /// The app's logger with the current request's id (nginx's `$request_id`) and trace id on every line.
        var log: Logger
        /// The current request's span (a no-op one when tracing is off), and its `traceparent`:
        /// stored with a job the request makes, so the runner and the gateway continue the trace.
        var span: any Span = NoOpTracer.NoOpSpan(context: .topLevel)
        var traceparent: String?

        public init(app: App) {
            self.app = app
            log = app.logger
        }

        /// The thread's connection, reconnecting when it broke.
        func db() throws -> PGConnection {
            if let c = connection, c.isHealthy { return c }
            connection = nil
            do {
                let c = try PGConnection(app.config.database)
                connection = c
                return c
            } catch {
                throw APIError.unavailable
            }
        }

        /// The thread's object store, made on first use.
        func store() throws -> any ObjectStore {
            if let s = objectStore { return s }
            do {
                let s = try app.storeFactory()
                objectStore = s
                return s
            } catch {
                log.error("object store unavailable", metadata: ["docflow.error": "\(String(reflecting: error))"])
                throw APIError.storageUnavailable
            }
        }

        /// Runs `body` with the connection, mapping a lost connection to 503.
        func withDB<T>(_ body: (PGConnection) throws -> T) throws -> T {
            let c = try db()
            do {
                return try body(c)
            } catch let e as StoreError where e.code == .unavailable {
                connection = nil
                throw APIError.unavailable
            }
        }

        /// Handles one request; never throws: errors become JSON responses.
        public func handle(_ req: Request) -> Response {
            let started = DispatchTime.now().uptimeNanoseconds
            var response: Response
            var errorCode: String?
            matchedRoute = nil
            // nginx's request id (also in its access log and the X-Request-Id response header).
            let requestID = req.headers["x-request-id"] ?? UUID().uuidString.lowercased()
            log = app.logger
            log[metadataKey: "docflow.request.id"] = "\(requestID)"
            span = startSpan(req.method, context: TraceContext.context(traceparent: req.headers["traceparent"], tracestate: req.headers["tracestate"]),
                             ofKind: .server)
            traceparent = TraceContext.traceparent(of: span)
            if let t = TraceContext.traceID(traceparent) { log[metadataKey: "docflow.trace.id"] = "\(t)" }
            defer { span.end() }
            do {
                response = try route(req)
            } catch let e as APIError {
                errorCode = e.code
                response = e.response
            } catch let e as StoreError where e.code == .unavailable {
                connection = nil
                response = APIError.unavailable.response
            } catch let e as StorageError where e.isTransient {
                log.warning("object store unavailable", metadata: ["docflow.error": "\(String(reflecting: e))", "docflow.path": "\(req.path)"])
                response = APIError.storageUnavailable.response
            } catch let e as StoreError where e.isDataException {
                // A data exception (22xxx: a value PostgreSQL cannot store or cast) from a value the
                // request carried that a check above let through: the request's fault, said as such.
                log.warning("request value refused by the database", metadata: ["docflow.error": "\(String(reflecting: e))",
                                                                                "docflow.path": "\(req.path)"])
                response = APIError(400, "bad_request", "A value in the request cannot be stored: check for control characters or invalid text.").response
            } catch {
                log.error("unhandled error", metadata: ["docflow.error": "\(String(reflecting: error))", "docflow.path": "\(req.path)"])
                response = APIError(500, "internal_error", "Something went wrong on our side (request \(requestID)).").response
            }
            if span.isRecording { describe(span, req, response, route: matchedRoute, requestID: requestID, errorCode: errorCode) }
            app.metrics.record(route: matchedRoute ?? "unmatched",
                               method: req.method, status: response.status, errorCode: errorCode,
                               seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
            return response
        }

        var storage: Storage { app.storage }

        /// The path's segments (`/api/jobs/x` → `["api", "jobs", "x"]`).
        func segments(_ req: Request) -> [String] {
            req.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        }

        /// nginx's error location for the methods it refuses itself (errors.conf).
        static let methodNotAllowedRoute = "method-not-allowed"

        /// Dispatches on `App.routes`: 404 when no template matches the path, 405 with `Allow`
        /// when one does but not for this method. Notes the matched template (the metrics' label).
        func route(_ req: Request) throws -> Response {
            // nginx's internal calls for direct uploads (set by its locations, not by clients).
            switch req.headers["x-docflow-route"] {
            case Self.authorizeRoute?:
                matchedRoute = Self.authorizeRoute
                return authorizeUpload(req)
            case Self.methodNotAllowedRoute?:
                // nginx refused the method itself (TRACE, or a static file): only the Allow header is ours.
                matchedRoute = Self.methodNotAllowedRoute
                // (nginx hands the error over as a GET: the refused method itself is not known here.)
                let allowed = App.resource(segments(req)).map(\.method)
                var e = APIError(405, "method_not_allowed", "This method is not allowed on \(req.path).").response
                e.headers.append(("Allow", allowed.isEmpty ? "GET, HEAD" : allowed.joined(separator: ", ")))
                return e
            default:
                break
            }
            // Only the methods of the path's resource are allowed there.
            let path = segments(req)
            let resource = App.resource(path)
            guard let template = resource.first?.template else {
                throw APIError(404, "not_found", "No such endpoint: \(req.path).")
            }
            matchedRoute = template  // a 405 is counted under the path's template too
            var allowed: [String] = []
            for r in resource {
                if r.method == req.method {
                    let args = r.match(path)!
                    // A request about one job: its id on the log lines and the span.
                    if r.template.hasPrefix("/api/jobs/{id}"), let id = UUID(uuidString: args[0]) {
                        log[metadataKey: "docflow.job.id"] = "\(id.uuidString.lowercased())"
                        span.attributes["docflow.job.id"] = id.uuidString.lowercased()
                    }
                    return try r.handler(self, req, args)
                }
                allowed.append(r.method)
            }
            var e = APIError(405, "method_not_allowed", "\(req.method) is not allowed on \(req.path).").response
            e.headers.append(("Allow", allowed.joined(separator: ", ")))
            return e
        }
    }
}

