import DocFlowCore
import DocFlowCrypto
import DocFlowHTTP
import DocFlowStore
import Foundation
import Logging
import Tracing

/// Sends the webhook outbox: claims due deliveries, checks each URL again and connects to the
/// address it checked (no redirects followed), POSTs the stored body signed with the client's
/// secret, and records the attempt — delivered on a 2xx, else retried with doubling backoff until
/// `webhookGiveUpSeconds` after the delivery was made. Run by the runners (a thread each) and the
/// janitor. At least once: a sender that dies mid-attempt leaves the delivery to be sent again
/// (receivers dedupe on `Docflow-Delivery`).
///
/// Unchecked Sendable: its loop runs on the one thread `startThread` makes (the curl handle is
/// that thread's), and the flag it shares is behind a lock.
public final class WebhookSender: @unchecked Sendable {
    let config: Config
    let logger: Logger
    let http = CurlHandle()

    public init(config: Config, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    /// The signature header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
    /// (the secret's text is the key).
    public static func signature(secret: String, timestamp: Int, body: String) -> String {
        "t=\(timestamp),v1=" + Digest.hex(Digest.hmacSHA256(key: Array(secret.utf8), "\(timestamp).\(body)"))
    }

    /// Delay before attempt `n + 1` after `n` failed ones: base × 2^(n-1), at most an hour.
    func backoff(after attempt: Int) -> Double {
        var delay = config.webhookBackoffSeconds
        for _ in 1..<max(1, min(attempt, 40)) { delay *= 2 }
        return min(3600, delay)
    }

    /// Sends what is due, `limit` at a time, until nothing is due or `until` passes; returns the
    /// attempts made.
    @discardableResult
    public func sendDue(_ db: PGConnection, limit: Int = 10, until deadline: Date = .distantFuture) throws -> Int {
        var attempts = 0
        while Date() < deadline {
            let batch = try db.webhookClaim(limit: limit, leaseSeconds: config.webhookTimeoutSeconds * 2 + 5)
            if batch.isEmpty { break }
            for d in batch {
                try send(d, db)
                attempts += 1
            }
        }
        return attempts
    }

    func send(_ d: WebhookDelivery, _ db: PGConnection) throws {
        let started = Date()
        var status = 0
        var error: String?
        // A client span in the job's trace (none when the job had no trace context); its
        // traceparent goes with the request, so a traced receiver continues the trace.
        let span: (any Span)? = d.traceContext.map { TraceContext.startSpan("webhook", parent: $0, kind: .client) }
        defer {
            if let span {
                span.updateAttributes { a in
                    a["docflow.job.id"] = d.jobID.uuidString.lowercased()
                    a["docflow.webhook.delivery"] = Int(d.id)
                    a["docflow.webhook.attempt"] = d.attempt
                    a["docflow.event"] = d.event
                    a["http.request.method"] = "POST"
                    if status > 0 { a["http.response.status_code"] = status }
                }
                if let error { span.setStatus(SpanStatus(code: .error, message: error)) }
                span.end()
            }
        }
        do {
            let target = try WebhookURL(d.url)
            let address = try target.resolve(allowLoopback: config.webhookAllowLoopback)
            let now = Int(Date().timeIntervalSince1970)
            var headers: [(name: String, value: String)] = [
                ("Content-Type", "application/json"), ("User-Agent", "DocFlow-Webhooks/1"),
                ("Docflow-Event", d.event), ("Docflow-Delivery", String(d.id)),
            ]
            if let secret = d.secret { headers.append(("Docflow-Signature", Self.signature(secret: secret, timestamp: now, body: d.body))) }
            // The delivery's span when this process traces, else the job's own context, passed on.
            if let t = span.flatMap(TraceContext.traceparent(of:)) ?? d.traceContext { headers.append(("traceparent", t)) }
            let bracketed: String = address.contains(":") ? "[" + address + "]" : address
            let pin: String = target.host + ":" + String(target.port) + ":" + bracketed
            let ms = Int(config.webhookTimeoutSeconds * 1000)
            let r = try http.perform(method: "POST", url: d.url, headers: headers, upload: Array(d.body.utf8),
                                     timeoutMilliseconds: ms, connectTimeoutMilliseconds: min(ms, 5000),
                                     resolve: [pin], maxResponseBytes: 4096)
            status = r.status
            if !(200..<300).contains(status) { error = "HTTP \(status)" }
        } catch let e as WebhookURL.Refusal {
            error = e.message
        } catch let e as CurlError {
            error = e.timedOut ? "no answer within " + String(format: "%g", config.webhookTimeoutSeconds) + " s" : e.code
        }
        let seconds = Date().timeIntervalSince(started)
        let delivered = error == nil
        let retryAfter = backoff(after: d.attempt)
        let giveUp = !delivered && d.ageSeconds + seconds + retryAfter > config.webhookGiveUpSeconds
        try db.webhookRecord(d, delivered: delivered, giveUp: giveUp, status: status, error: error, seconds: seconds, retryAfter: retryAfter)
        logResult(d, status: status, error: error, delivered: delivered, giveUp: giveUp)
    }

    private func logResult(_ d: WebhookDelivery, status: Int, error: String?, delivered: Bool, giveUp: Bool) {
        var meta = TraceContext.logMetadata(job: d.jobID.uuidString.lowercased(), traceparent: d.traceContext)
        meta["docflow.webhook.delivery"] = .string(String(d.id))
        meta["docflow.webhook.attempt"] = .string(String(d.attempt))
        meta["docflow.webhook.status"] = .string(String(status))
        if let error { meta["docflow.error"] = .string(error) }
        if delivered {
            logger.info("webhook delivered", metadata: meta)
        } else if giveUp {
            logger.warning("webhook given up", metadata: meta)
        } else {
            logger.warning("webhook attempt failed; will retry", metadata: meta)
        }
    }

    /// The runner's sender: a thread with its own connection that sends as deliveries come due
    /// (woken by `docflow_webhooks` notifications, or when the next retry is due), until the
    /// process exits or `stop()`.
    public func startThread() {
        let t = Thread { self.runForever() }
        t.name = "webhooks"
        t.start()
    }

    /// Whether the sender thread goes on (`stop()` ends it after its current pass). Read in the
    /// loop's condition: an endless `while true` around these calls made the release build of
    /// Swift 6.3's optimizer run without end.
    private let lock = NSLock()
    private var running = true

    public func stop() {
        lock.lock(); running = false; lock.unlock()
    }

    var isRunning: Bool {
        lock.lock(); defer { lock.unlock() }
        return running
    }

    func runForever() {
        var pause = 0.5
        while isRunning {
            do {
                let db = try PGConnection(config.database)
                try db.listen("docflow_webhooks")
                pause = 0.5
                while isRunning && db.isHealthy {
                    try sendDue(db)
                    // Until the next retry is due or a new delivery is announced (at most a second).
                    let wait = min(1, max(0.02, try db.webhookNextDue() ?? 1))
                    _ = try db.notifications(timeout: wait)
                }
                db.close()
            } catch {
                logger.warning("webhook sender lost its database connection", metadata: ["docflow.error": "\(error)"])
            }
            Thread.sleep(forTimeInterval: pause)
            pause = min(pause * 2, 10)
        }
    }
}

