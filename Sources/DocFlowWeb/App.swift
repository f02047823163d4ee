import DocFlowCore
import DocFlowFormats
import DocFlowStore
import Foundation
import Logging

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

        public init(app: App) { self.app = app }

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
                app.logger.error("object store unavailable", metadata: ["docflow.error": "\(String(reflecting: error))"])
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
            do {
                response = try route(req)
            } catch let e as APIError {
                response = e.response
            } catch let e as StoreError where e.code == .unavailable {
                connection = nil
                response = APIError.unavailable.response
            } catch let e as StorageError where e.isTransient {
                app.logger.warning("object store unavailable", metadata: ["docflow.error": "\(String(reflecting: e))", "docflow.path": "\(req.path)"])
                response = APIError.storageUnavailable.response
            } catch let e as StoreError where e.isDataException {
                // A data exception (22xxx: a value PostgreSQL cannot store or cast) from a value the
                // request carried that a check above let through: the request's fault, said as such.
                app.logger.warning("request value refused by the database", metadata: ["docflow.error": "\(String(reflecting: e))",
                                                                                       "docflow.path": "\(req.path)"])
                response = APIError(400, "bad_request", "A value in the request cannot be stored: check for control characters or invalid text.").response
            } catch {
                let id = UUID().uuidString.lowercased()
                app.logger.error("unhandled error", metadata: ["docflow.request.id": "\(id)",
                    "docflow.error": "\(String(reflecting: error))", "docflow.path": "\(req.path)"])
                response = APIError(500, "internal_error", "Something went wrong on our side (request \(id)).").response
            }
            app.metrics.record(status: response.status, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
            return response
        }

        var storage: Storage { app.storage }

        func route(_ req: Request) throws -> Response {
            let p = req.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            let m = req.method
            // nginx's internal calls for direct uploads (set by its locations, not by clients).
            switch req.headers["x-docflow-route"] {
            case Self.authorizeRoute?: return authorizeUpload(req)
            default: break
            }
            if p == ["metrics"], m == "GET" { return metricsText() }
            guard p.first == "api", p.count >= 2 else { throw APIError(404, "not_found", "No such endpoint: \(req.path).") }
            var allowed: [String] = []
            switch (p.count, p[1]) {
            case (2, "jobs"):
                allowed = ["GET", "POST"]
                if m == "POST" { return try createJob(req) }
                if m == "GET" { return try listJobs(req) }
            case (3, "jobs"):
                allowed = ["GET", "DELETE", "PATCH"]
                if m == "GET" { return try getJob(req, p[2]) }
                if m == "DELETE" { return try deleteJob(req, p[2]) }
                if m == "PATCH" { return try patchJob(req, p[2]) }
            case (4, "jobs") where p[3] == "output":
                allowed = ["GET", "HEAD"]
                if m == "GET" || m == "HEAD" { return try downloadJob(req, p[2]) }
            case (4, "jobs") where p[3] == "retry":
                allowed = ["POST"]
                if m == "POST" { return try retryJob(req, p[2]) }
            case (2, "uploads"):
                allowed = ["POST"]
                if m == "POST" { return try createUpload(req) }
            case (3, "uploads"):
                allowed = ["GET", "DELETE"]
                if m == "GET" { return try getUpload(req, p[2]) }
                if m == "DELETE" { return try deleteUpload(req, p[2]) }
            case (4, "uploads") where p[3] == "jobs":
                allowed = ["POST"]
                if m == "POST" { return try createJobFromUpload(req, p[2]) }
            case (2, "formats"):
                allowed = ["GET"]
                if m == "GET" { return formats() }
            case (2, "usage"):
                allowed = ["GET"]
                if m == "GET" { return try usage(req) }
            case (2, "queue"):
                allowed = ["GET"]
                if m == "GET" { return try queue() }
            case (2, "health"):
                allowed = ["GET"]
                if m == "GET" { return health() }
            default:
                break
            }
            if allowed.isEmpty { throw APIError(404, "not_found", "No such endpoint: \(req.path).") }
            var e = APIError(405, "method_not_allowed", "\(m) is not allowed on \(req.path).").response
            e.headers.append(("Allow", allowed.joined(separator: ", ")))
            return e
        }
    }
}

/// Request counters and a latency sum for `/metrics`, shared by all threads.
final class Metrics: @unchecked Sendable {
    private let lock = NSLock()
    private var byStatus: [Int: Int] = [:]
    private var seconds: Double = 0
    private var count = 0

    func record(status: Int, seconds s: Double) {
        lock.lock(); defer { lock.unlock() }
        byStatus[status, default: 0] += 1
        seconds += s
        count += 1
    }

    func snapshot() -> (byStatus: [Int: Int], seconds: Double, count: Int) {
        lock.lock(); defer { lock.unlock() }
        return (byStatus, seconds, count)
    }
}
