import DocFlowCore
import DocFlowStore
import Foundation

extension App.Worker {
    /// `POST /api/convert` (`?wait=` seconds, at most and by default `syncWaitSeconds`): an upload
    /// as `POST /api/jobs` takes it, through the same queue and runners, and an answer that waits
    /// for the job — the output itself when it is done (200), 422 `conversion_failed` when it failed,
    /// or, when the wait runs out first, 202 with the job (follow it as any other). Either way the
    /// `Docflow-Job` header and `Location` name the job. A wait holds one of fcgi-app's threads, so at
    /// most half of them wait at once; past that the answer is 202 at once.
    func convertNow(_ req: Request) throws -> Response {
        var wait = App.syncWaitSeconds
        if let w = req.query["wait"] {
            guard let n = Double(w), n.isFinite, (0...App.syncWaitSeconds).contains(n) else {
                throw APIError(400, "bad_wait", "wait must be a number of seconds from 0 to \(Int(App.syncWaitSeconds)).")
            }
            wait = n
        }
        let created = try createJob(req, oneTarget: true)
        guard created.status == 201 || created.status == 200,
              let job = try? JSONSerialization.jsonObject(with: Data(created.body)) as? [String: Any],
              let idText = job["id"] as? String, let id = UUID(uuidString: idText) else { return created }
        // The client: the request's, or the one this upload made (its cookie is in the answer).
        let cookie = created.headers.first { $0.0 == "Set-Cookie" }
        guard let client = Identity.clientID(req) ?? cookie.flatMap({ ClientID.fromCookieHeader($0.1) }) else { return created }
        var headers = [("Docflow-Job", idText), ("Location", "/api/jobs/\(idText)")]
        if let cookie { headers.append(cookie) }

        var ended: JobStatus?
        if let s = try app.syncWaits.run(limit: max(1, app.config.fcgiThreads / 2), { try waitForEnd(client: client, id: id, seconds: wait) }) {
            ended = s
        }
        switch ended {
        case .done?:
            var r = try download(client: client, id: id)
            r.headers += headers
            return r
        case .failed?, .canceled?:
            let now = try withDB { try $0.jobFindJSON(client: client, id: id) }
            let ended = now.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            let message = ((ended?["error"] as? [String: Any])?["message"] as? String) ?? "The job was canceled."
            var r = APIError(422, "conversion_failed", message).response
            r.headers += headers
            return r
        default:
            let now = try withDB { try $0.jobFindJSON(client: client, id: id) } ?? String(decoding: created.body, as: UTF8.self)
            return .json(202, now.trimmingCharacters(in: .whitespacesAndNewlines), headers: headers)
        }
    }

    /// Waits up to `seconds` for the job to end (LISTEN on this thread's connection, woken by its
    /// events; the row is the truth); its final status, or nil when it has not ended in time.
    func waitForEnd(client: UUID, id: UUID, seconds: Double) throws -> JobStatus? {
        let deadline = Date().addingTimeInterval(seconds)
        let key = id.uuidString.lowercased()
        return try withDB { db in
            try db.listen("docflow_events")
            defer {
                _ = try? db.unlisten("docflow_events")
                _ = try? db.notifications(timeout: 0)  // nothing heard stays queued on the connection
            }
            while true {
                guard let s = try db.jobStatus(client: client, id: id) else { return nil }
                if s.isFinal { return s }
                let left = deadline.timeIntervalSinceNow
                if left <= 0 { return nil }
                // Woken by any event; the row is read again only for one about this job (or each second).
                let until = Date().addingTimeInterval(min(left, 1))
                while Date() < until {
                    let heard = try db.notifications(timeout: until.timeIntervalSinceNow)
                    if heard.contains(where: { $0.payload.contains(key) }) { break }
                }
            }
        }
    }
}

extension App {
    /// How long `POST /api/convert` waits at most (nginx's fastcgi_read_timeout is 120 s).
    static let syncWaitSeconds = 60.0
}

/// Counts the requests waiting on a job (`POST /api/convert`) so only so many threads wait at once.
final class SyncWaits: @unchecked Sendable {
    private let lock = NSLock()
    private var waiting = 0

    /// Runs `body` when fewer than `limit` run now; nil (without running it) otherwise.
    func run<T>(limit: Int, _ body: () throws -> T) rethrows -> T? {
        lock.lock()
        guard waiting < limit else { lock.unlock(); return nil }
        waiting += 1
        lock.unlock()
        defer { lock.lock(); waiting -= 1; lock.unlock() }
        return try body()
    }
}
