import DocFlowCore
import DocFlowStore
import Foundation

/// Webhooks (issue 16): a job's `callback_url`, the client's default, its signing secret, and the
/// deliveries' record. Deliveries are made by the runners and the janitor from an outbox the
/// database fills when a job ends (migration m0006); fcgi-app never calls a URL.
extension App.Worker {
    /// A request's callback URL, checked (form, then every address its host resolves to); nil when absent.
    func callbackURL(_ text: String?) throws -> String? {
        guard let text else { return nil }
        do {
            let url = try WebhookURL(text)
            _ = try url.resolve(allowLoopback: app.config.webhookAllowLoopback)
            return url.url
        } catch let e as WebhookURL.Refusal {
            throw APIError(400, "bad_callback_url", e.message)
        }
    }

    /// A new job's JSON, with the client's signing secret added when this job made it (shown once).
    func withCallbackSecret(_ client: UUID, _ callback: String?, _ body: String) throws -> String {
        guard callback != nil, let secret = try withDB({ try $0.clientWebhookSecretEnsure(client, newSecret: Self.randomToken()) }) else { return body }
        return String(body.dropLast()) + ", \"webhook_secret\": \(JSONText.quoted(secret))}"
    }

    /// `GET /api/webhook`: the client's default callback and whether it has a secret.
    func getWebhook(_ req: Request) throws -> Response {
        let current = try Identity.clientID(req).flatMap { c in try withDB { try $0.clientWebhook(c) } }
        return .json(200, "{\"url\": \(current?.url.map(JSONText.quoted) ?? "null"), \"secret_set\": \(current?.hasSecret ?? false)}")
    }

    /// `PUT /api/webhook` with `{"url": …}`: the default callback of every job of this client that
    /// names none. Makes the client (and its cookie) when there is none yet, and its secret when it
    /// has none: the answer then carries `secret`, once.
    func putWebhook(_ req: Request) throws -> Response {
        let obj = try Self.jsonObject(req, hint: "{\"url\": \"https://…\"}")
        guard obj.count == 1, let text = obj["url"] as? String else { throw APIError(400, "bad_request", "Send {\"url\": \"https://…\"}.") }
        let url = try callbackURL(text)
        var newCookie: String?
        let client: UUID
        if let c = Identity.clientID(req), try withDB({ try $0.clientIsLive(c) }) {
            client = c
        } else {
            client = UUID()
            try withDB { try $0.clientCreate(client, quota: app.config.quotaBytes, ttlSeconds: app.config.clientTTLSeconds) }
            newCookie = ClientID.setCookie(client, maxAge: app.config.clientTTLSeconds, secure: req.isTLS)
        }
        guard try withDB({ try $0.clientWebhookSet(client, url: url) }) else { throw APIError.notFound }
        let secret = try withDB { try $0.clientWebhookSecretEnsure(client, newSecret: Self.randomToken()) }
        var body = "{\"url\": \(url.map(JSONText.quoted) ?? "null"), \"secret_set\": true"
        if let secret { body += ", \"secret\": \(JSONText.quoted(secret))" }
        return .json(200, body + "}", headers: newCookie.map { [("Set-Cookie", $0)] } ?? [])
    }

    /// `DELETE /api/webhook`: no default callback any more (jobs' own callback URLs still apply).
    func deleteWebhook(_ req: Request) throws -> Response {
        let client = try requireClient(req)
        guard try withDB({ try $0.clientWebhookSet(client, url: nil) }) else { throw APIError.notFound }
        return .json(200, "{\"url\": null}")
    }

    /// `POST /api/webhook/secret`: a new signing secret, shown once; the old one stops at once.
    func rotateWebhookSecret(_ req: Request) throws -> Response {
        let client = try requireClient(req)
        let secret = Self.randomToken()
        guard try withDB({ try $0.clientWebhookSecretReplace(client, newSecret: secret) }) else { throw APIError.notFound }
        return .json(200, "{\"secret\": \(JSONText.quoted(secret))}")
    }

    /// `GET /api/jobs/{id}/webhooks`: the job's deliveries and each attempt's outcome.
    func jobWebhooks(_ req: Request, _ idText: String) throws -> Response {
        let client = try requireClient(req), id = try Identity.jobID(idText)
        // The job itself, not its history (which outlives a deleted job): a deleted job is a 404.
        guard try withDB({ try $0.jobFindJSON(client: client, id: id) }) != nil else { throw APIError.notFound }
        return .json(200, "{\"job_id\": \"\(id.uuidString.lowercased())\", \"deliveries\": " + (try withDB { try $0.webhookDeliveriesJSON(client: client, job: id) }) + "}")
    }
}
