-- Direct uploads (issue 12): a client asks for a slot, sends the file straight to storage (an S3
-- POST form, or nginx writing the body itself), then asks for jobs made from it. The slot's row
-- holds the file: its declared size is charged to the client's quota when the slot is made and
-- freed when the row goes; the jobs made from it charge only their outputs (jobs.input_owned false).
CREATE TYPE upload_status AS ENUM ('RESERVED', 'STORED');

CREATE TABLE uploads (
    id             uuid          PRIMARY KEY,
    client_id      uuid          NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    status         upload_status NOT NULL DEFAULT 'RESERVED',
    filename       text          NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    input_format   text          NOT NULL CHECK (input_format ~ '^[a-z0-9]{1,10}$'),
    input_path     text          NOT NULL,
    declared_bytes bigint        NOT NULL CHECK (declared_bytes > 0),
    content_type   text          CHECK (length(content_type) <= 255),
    sha256         text          CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    -- The SHA-256 of the token in the local backend's upload URL (the token itself is not kept).
    token_sha256   text          CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    created_at     timestamptz   NOT NULL DEFAULT now(),
    -- A reserved slot's own expiry (an hour); a stored upload lives as long as its client.
    expires_at     timestamptz   NOT NULL,
    stored_at      timestamptz,
    CONSTRAINT uploads_stored_has_time CHECK (status <> 'STORED' OR stored_at IS NOT NULL)
);
CREATE INDEX uploads_client ON uploads (client_id);
-- The janitor releases reserved slots past their expiry.
CREATE INDEX uploads_reserved_expiry ON uploads (expires_at) WHERE status = 'RESERVED';

-- A job made from an upload names it; its input is the upload's object, charged once, there.
-- Losing the upload (a SHA-256 mismatch releases it) leaves the job with its zero charge.
ALTER TABLE jobs ADD COLUMN upload_id uuid REFERENCES uploads (id) ON DELETE SET NULL;
-- Whether the job's input is its own (charged with the job) or an upload's (charged there).
ALTER TABLE jobs ADD COLUMN input_owned boolean NOT NULL DEFAULT true;
-- A direct upload's SHA-256 is known only when the client declared it.
ALTER TABLE jobs ALTER COLUMN input_sha256 DROP NOT NULL;
CREATE INDEX jobs_upload ON jobs (upload_id) WHERE upload_id IS NOT NULL;

CREATE OR REPLACE FUNCTION docflow_jobs_quota() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE clients c SET bytes_used = c.bytes_used + d.delta
        FROM (SELECT client_id, sum(CASE WHEN input_owned THEN input_bytes ELSE 0 END) AS delta FROM new_rows GROUP BY client_id) d
        WHERE c.id = d.client_id AND d.delta <> 0;
    ELSE
        UPDATE clients c SET bytes_used = c.bytes_used - d.delta
        FROM (SELECT client_id, sum(CASE WHEN input_owned THEN input_bytes ELSE 0 END + coalesce(output_bytes, 0)) AS delta FROM old_rows GROUP BY client_id) d
        WHERE c.id = d.client_id AND d.delta <> 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION docflow_uploads_quota() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE clients c SET bytes_used = c.bytes_used + d.delta
        FROM (SELECT client_id, sum(declared_bytes) AS delta FROM new_rows GROUP BY client_id) d
        WHERE c.id = d.client_id;
    ELSE
        UPDATE clients c SET bytes_used = c.bytes_used - d.delta
        FROM (SELECT client_id, sum(declared_bytes) AS delta FROM old_rows GROUP BY client_id) d
        WHERE c.id = d.client_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER uploads_quota_insert AFTER INSERT ON uploads REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION docflow_uploads_quota();
CREATE TRIGGER uploads_quota_delete AFTER DELETE ON uploads REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION docflow_uploads_quota();

-- The upload's JSON as clients see it.
CREATE FUNCTION docflow_upload_json(u uploads) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'upload_id', u.id,
        'status', u.status,
        'filename', u.filename,
        'input_format', u.input_format,
        'size', u.declared_bytes,
        'sha256', u.sha256,
        'created_at', u.created_at,
        'expires_at', u.expires_at
    )
$$;

-- Jobs say which upload they were made from.
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
        'download_url', CASE WHEN j.status = 'DONE' THEN '/api/jobs/' || j.id || '/output' END
    )
$$;
