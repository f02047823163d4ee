import DocFlowCore
import Foundation

/// A delivery a sender has claimed (its `next_attempt_at` moved past the attempt's time limit, so
/// no other sender takes it meanwhile; a sender that dies leaves it to be retried then).
public struct WebhookDelivery: Sendable {
    public var id: Int64
    public var jobID: UUID
    public var event: String
    public var url: String
    public var body: String
    /// This attempt's number (1 for the first).
    public var attempt: Int
    /// The client's signing secret (hex); nil only if it was never made.
    public var secret: String?
    /// Seconds since the delivery was made (it is given up past `webhookGiveUpSeconds`).
    public var ageSeconds: Double
    /// The job's trace context, while the job exists (the delivery's span joins its trace).
    public var traceContext: String? = nil
}

/// Queries on `webhook_deliveries` and the clients' webhook settings (migration m0006).
extension PGConnection {
    /// Makes the client's signing secret if it has none; returns it only when made now (it is
    /// shown once).
    public func clientWebhookSecretEnsure(_ client: UUID, newSecret: String) throws -> String? {
        try query("""
            UPDATE clients SET webhook_secret = \(newSecret) WHERE id = \(client) AND webhook_secret IS NULL
            RETURNING webhook_secret
            """).first?.decode("webhook_secret")
    }

    /// Replaces the client's signing secret; false when the client is gone.
    public func clientWebhookSecretReplace(_ client: UUID, newSecret: String) throws -> Bool {
        try query("UPDATE clients SET webhook_secret = \(newSecret) WHERE id = \(client) AND expires_at > now()").affectedRows == 1
    }

    /// Sets (or clears, with nil) the client's default callback URL; false when the client is gone.
    public func clientWebhookSet(_ client: UUID, url: String?) throws -> Bool {
        try query("UPDATE clients SET webhook_url = \(url) WHERE id = \(client) AND expires_at > now()").affectedRows == 1
    }

    /// The client's default callback URL and whether it has a secret.
    public func clientWebhook(_ client: UUID) throws -> (url: String?, hasSecret: Bool)? {
        guard let r = try query("SELECT webhook_url, webhook_secret IS NOT NULL AS has_secret FROM clients WHERE id = \(client) AND expires_at > now()").first
        else { return nil }
        return (try r.decodeIfPresent("webhook_url"), try r.decode("has_secret"))
    }

    /// A job's deliveries as a JSON array, oldest first (the client's own jobs only).
    public func webhookDeliveriesJSON(client: UUID, job: UUID) throws -> String {
        try query("""
            SELECT coalesce(json_agg(docflow_webhook_json(d) ORDER BY d.id), '[]')::text AS body
            FROM webhook_deliveries d WHERE d.client_id = \(client) AND d.job_id = \(job)
            """).first?.decode("body") ?? "[]"
    }

    /// Claims up to `limit` due deliveries (SKIP LOCKED), each for `leaseSeconds`.
    public func webhookClaim(limit: Int, leaseSeconds: Double) throws -> [WebhookDelivery] {
        try query("""
            WITH due AS (
                SELECT id FROM webhook_deliveries WHERE state = 'PENDING' AND next_attempt_at <= now()
                ORDER BY next_attempt_at FOR UPDATE SKIP LOCKED LIMIT \(limit)
            )
            UPDATE webhook_deliveries d SET attempts = d.attempts + 1,
                   next_attempt_at = now() + make_interval(secs => \(leaseSeconds))
            FROM due, clients c WHERE d.id = due.id AND c.id = d.client_id
            RETURNING d.id, d.job_id, d.event, d.url, d.body, d.attempts, c.webhook_secret,
                      extract(epoch FROM now() - d.created_at)::float8 AS age,
                      (SELECT j.trace_context FROM jobs j WHERE j.id = d.job_id) AS trace_context
            """).rows.map { r in
            WebhookDelivery(id: try r.decode("id"), jobID: try r.decode("job_id"), event: try r.decode("event"), url: try r.decode("url"),
                            body: try r.decode("body"), attempt: try r.decode("attempts"), secret: try r.decodeIfPresent("webhook_secret"),
                            ageSeconds: try r.decode("age"), traceContext: try r.decodeIfPresent("trace_context"))
        }
    }

    /// Seconds until the next pending delivery comes due (0 when one is due), nil when none is pending.
    public func webhookNextDue() throws -> Double? {
        try query("""
            SELECT greatest(0, extract(epoch FROM min(next_attempt_at) - now()))::float8 AS wait
            FROM webhook_deliveries WHERE state = 'PENDING'
            """).first?.decodeIfPresent("wait")
    }

    /// Records an attempt: delivered, given up, or due again after `retryAfter` seconds. Fenced by
    /// the attempt number (a sender whose claim ran out cannot overwrite a later attempt).
    public func webhookRecord(_ d: WebhookDelivery, delivered: Bool, giveUp: Bool, status: Int, error: String?,
                              seconds: Double, retryAfter: Double) throws {
        let entry = "{\"attempt\": \(d.attempt), \"status\": \(status), \"error\": \(error.map(JSONText.quoted) ?? "null"), \"seconds\": \(seconds)}"
        try query("""
            UPDATE webhook_deliveries SET
                log = log || jsonb_build_array(jsonb_build_object('at', now()) || \(entry)::jsonb),
                state = CASE WHEN \(delivered) THEN 'DELIVERED'::webhook_state WHEN \(giveUp) THEN 'FAILED'::webhook_state ELSE 'PENDING'::webhook_state END,
                finished_at = CASE WHEN \(delivered) OR \(giveUp) THEN now() END,
                next_attempt_at = now() + make_interval(secs => \(retryAfter))
            WHERE id = \(d.id) AND attempts = \(d.attempt) AND state = 'PENDING'
            """)
    }
}
