// fcgi-app: the FastCGI responder nginx sends /api and /metrics to. N threads, each with its own
// database connection, accept on one unix socket (libfcgi). Never converts anything.
import CFastCGI
import DocFlowCore
import DocFlowS3
import DocFlowStore
import DocFlowTelemetry
import DocFlowWeb
import Foundation
import Logging

let config = Config()
JSONLogHandler.bootstrap(config)
let logger = Logger(label: "docflow.fcgi")
let telemetry = Telemetry.start(service: "docflow-fcgi-app", logger: logger)

guard FCGX_Init() == 0 else { logger.critical("FCGX_Init failed"); exit(1) }
let socketPath = CommandLine.arguments.dropFirst().first ?? config.fcgiSocket
unlink(socketPath)
let listenFD = FCGX_OpenSocket(socketPath, 1024)
guard listenFD >= 0 else { logger.critical("cannot listen", metadata: ["docflow.socket": "\(socketPath)"]); exit(1) }
// libfcgi creates the socket 0777: only its owner and its group (www-data, handed down by the
// setgid run folder: nginx) may talk FastCGI to it, not any local user bypassing nginx.
chmod(socketPath, 0o660)

/// libfcgi catches SIGTERM and only sets a flag (PLATFORM-NOTES 5): ignore it and stop via
/// FCGX_ShutdownPending plus shutdown(2) of the listening socket, which wakes blocked accepts.
let stopQueue = DispatchQueue(label: "docflow.fcgi.signals")
var signalSources: [DispatchSourceSignal] = []
for sig in [SIGTERM, SIGINT] {
    signal(sig, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: sig, queue: stopQueue)
    source.setEventHandler { [fd = listenFD] in
        FCGX_ShutdownPending()
        shutdown(fd, Int32(SHUT_RDWR))
    }
    source.resume()
    signalSources.append(source)
}
signal(SIGPIPE, SIG_IGN)

/// The FastCGI input stream as a request body.
final class FCGIBody: BodyReader {
    let stream: UnsafeMutablePointer<FCGX_Stream>?
    init(_ stream: UnsafeMutablePointer<FCGX_Stream>?) { self.stream = stream }
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        Int(FCGX_GetStr(buffer.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(buffer.count), stream))
    }
}

/// The FastCGI output stream as a streamed response body's destination.
struct FCGIOutput: BodyWriter {
    let stream: UnsafeMutablePointer<FCGX_Stream>?
    init(_ stream: UnsafeMutablePointer<FCGX_Stream>?) { self.stream = stream }
    struct Gone: Error {}
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        let n = FCGX_PutStr(bytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(bytes.count), stream)
        if n != Int32(bytes.count) { throw Gone() }
    }
}

@Sendable func serve(fd: Int32, app: App, acceptLock: NSLock) {
    let worker = App.Worker(app: app)
    var req = FCGX_Request()
    FCGX_InitRequest(&req, fd, 0)
    while true {
        acceptLock.lock()
        let rc = FCGX_Accept_r(&req)
        acceptLock.unlock()
        if rc < 0 { break }
        func param(_ name: String) -> String? { FCGX_GetParam(name, req.envp).map { String(cString: $0) } }
        var headers: [String: String] = [:]
        if let v = param("CONTENT_TYPE") { headers["content-type"] = v }
        if let v = param("HTTP_COOKIE") { headers["cookie"] = v }
        if let v = param("HTTP_IDEMPOTENCY_KEY") { headers["idempotency-key"] = v }
        // W3C Trace Context from the client: the request's span continues its trace.
        if let v = param("HTTP_TRACEPARENT") { headers["traceparent"] = v }
        if let v = param("HTTP_TRACESTATE") { headers["tracestate"] = v }
        // Set by nginx's internal direct-upload locations only (FastCGI params, not client headers).
        if let v = param("DOCFLOW_ROUTE") { headers["x-docflow-route"] = v }
        if let v = param("DOCFLOW_DECLARED_LENGTH"), !v.isEmpty { headers["x-declared-length"] = v }
        // nginx's $request_id (a FastCGI param of its own, never a client header).
        if let v = param("DOCFLOW_REQUEST_ID"), !v.isEmpty { headers["x-request-id"] = v }
        let request = Request(method: param("REQUEST_METHOD") ?? "GET", uri: param("REQUEST_URI") ?? "/",
                              headers: headers, contentLength: param("CONTENT_LENGTH").flatMap { Int64($0) },
                              remoteAddress: param("REMOTE_ADDR") ?? "", isTLS: param("HTTPS") == "on",
                              body: FCGIBody(req.`in`))
        let response = worker.handle(request)
        let head = response.cgiHead
        _ = head.withCString { FCGX_PutStr($0, Int32(strlen($0)), req.out) }
        if request.method != "HEAD", let stream = response.stream {
            do { try stream(FCGIOutput(req.out)) } catch {
                logger.warning("streamed response ended early", metadata: ["docflow.error": "\(error)", "docflow.path": "\(request.path)"])
            }
        } else if request.method != "HEAD", !response.body.isEmpty {
            _ = response.body.withUnsafeBytes { FCGX_PutStr($0.baseAddress!.assumingMemoryBound(to: CChar.self), Int32($0.count), req.out) }
        }
        FCGX_Finish_r(&req)
    }
    FCGX_Free(&req, 1)
}

let store: ObjectStoreFactory
do { store = try StorageBackend.factory(config) } catch {
    logger.critical("fcgi-app refuses to start", metadata: ["docflow.error": "\(String(reflecting: error))"])
    exit(2)
}
let app = App(config: config, store: store, logger: logger)
app.removeAbandonedUploads()
let acceptLock = NSLock()
let group = DispatchGroup()
for _ in 0..<config.fcgiThreads {
    group.enter()
    let thread = Thread { [fd = listenFD] in
        serve(fd: fd, app: app, acceptLock: acceptLock)
        group.leave()
    }
    thread.stackSize = 4 << 20
    thread.start()
}
logger.info("fcgi-app listening", metadata: ["docflow.socket": "\(socketPath)", "docflow.threads": "\(config.fcgiThreads)"])
group.wait()
telemetry?.shutdown()
logger.info("fcgi-app stopped")
