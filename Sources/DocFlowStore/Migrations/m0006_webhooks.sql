-- Webhooks (issue 16): a job may name a callback_url, a client may set a default one; when a job
-- ends (DONE or FAILED) a delivery is written to an outbox in the same transaction as the change
-- (a trigger, like the history), and runners or the janitor send it — never fcgi-app, never inline.
-- Each delivery is signed with its client's secret (HMAC-SHA256 over "timestamp.body"), retried
-- with backoff until 24 h after it was made, then given up; its attempts stay visible.

ALTER TABLE clients ADD COLUMN webhook_url text CHECK (length(webhook_url) BETWEEN 1 AND 2048);
-- 32 random bytes as hex, made when the client first asks for a webhook and shown to it once.
ALTER TABLE clients ADD COLUMN webhook_secret text CHECK (webhook_secret ~ '^[0-9a-f]{64}$');
ALTER TABLE jobs ADD COLUMN callback_url text CHECK (length(callback_url) BETWEEN 1 AND 2048);

CREATE TYPE webhook_state AS ENUM ('PENDING', 'DELIVERED', 'FAILED');

CREATE TABLE webhook_deliveries (
    id              bigint        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- No foreign key, as job_events (m0005): deleted with the client by docflow_clients_forget.
    client_id       uuid          NOT NULL,
    job_id          uuid          NOT NULL,
    event           text          NOT NULL CHECK (event IN ('job_done', 'job_failed')),
    url             text          NOT NULL,
    -- The exact bytes sent (and signed): the job as it was when it ended.
    body            text          NOT NULL,
    state           webhook_state NOT NULL DEFAULT 'PENDING',
    created_at      timestamptz   NOT NULL DEFAULT now(),
    -- When the next attempt may start; a sender claims a delivery by moving this past its timeout.
    next_attempt_at timestamptz   NOT NULL DEFAULT now(),
    attempts        integer       NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- Every attempt: {at, status (0: no answer), error, seconds}, oldest first.
    log             jsonb         NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(log) = 'array'),
    finished_at     timestamptz,
    CONSTRAINT webhook_finished CHECK ((state = 'PENDING') = (finished_at IS NULL))
);
-- The senders' claim: due pending deliveries, oldest first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'PENDING';
-- A client's job's deliveries (and the delete with the client).
CREATE INDEX webhook_deliveries_job ON webhook_deliveries (client_id, job_id);

CREATE OR REPLACE FUNCTION docflow_clients_forget() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM job_events e USING old_rows o WHERE e.client_id = o.id;
    DELETE FROM webhook_deliveries d USING old_rows o WHERE d.client_id = o.id;
    RETURN NULL;
END
$$;

CREATE FUNCTION docflow_jobs_webhook() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    target text;
    kind text := CASE NEW.status WHEN 'DONE' THEN 'job_done' ELSE 'job_failed' END;
BEGIN
    target := coalesce(NEW.callback_url, (SELECT webhook_url FROM clients WHERE id = NEW.client_id));
    IF target IS NOT NULL THEN
        INSERT INTO webhook_deliveries (client_id, job_id, event, url, body)
        VALUES (NEW.client_id, NEW.id, kind, target,
                json_build_object('type', kind, 'job', docflow_job_json(NEW))::text);
        PERFORM pg_notify('docflow_webhooks', '');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_webhook AFTER UPDATE OF status ON jobs
    FOR EACH ROW WHEN (NEW.status IN ('DONE', 'FAILED') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION docflow_jobs_webhook();

-- A delivery as its client sees it (no secret, no signature).
CREATE FUNCTION docflow_webhook_json(d webhook_deliveries) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', d.id, 'job_id', d.job_id, 'event', d.event, 'url', d.url, 'state', d.state,
                             'created_at', d.created_at, 'attempts', d.attempts,
                             'next_attempt_at', CASE WHEN d.state = 'PENDING' THEN d.next_attempt_at END,
                             'finished_at', d.finished_at, 'log', d.log)
$$;

-- The job JSON names its callback.
CREATE OR REPLACE FUNCTION docflow_job_json(j jobs) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', j.id,
        'status', j.status,
        'input_filename', j.input_filename,
        'input_format', j.input_format,
        'output_format', j.output_format,
        'input_bytes', j.input_bytes,
        'input_sha256', j.input_sha256,
        'output_bytes', j.output_bytes,
        'priority', j.priority,
        'progress', j.progress,
        'step', j.step,
        'attempt', j.attempt,
        'max_attempts', j.max_attempts,
        'error', CASE WHEN j.error_message IS NULL THEN NULL
                      ELSE json_build_object('code', j.error_code, 'message', j.error_message) END,
        'warnings', j.warnings,
        'metadata', j.metadata,
        'options', j.options,
        'created_at', j.created_at,
        'started_at', j.started_at,
        'processed_at', j.processed_at,
        'expires_at', j.expires_at,
        'upload_id', j.upload_id,
        'callback_url', j.callback_url,
        'download_url', CASE WHEN j.status = 'DONE' THEN '/api/jobs/' || j.id || '/output' END
    )
$$;
