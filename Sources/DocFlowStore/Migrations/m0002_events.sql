-- The job as clients see it: one definition for the API and for WebSocket events.
CREATE FUNCTION docflow_job_json(j jobs) RETURNS json
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
        'download_url', CASE WHEN j.status = 'DONE' THEN '/api/jobs/' || j.id || '/output' END
    )
$$;

-- Quota accounting follows the rows: a job's input bytes are charged when it is inserted and its
-- input and output bytes are freed when the row goes (these triggers); its output bytes are
-- charged by the statement that records them (jobFinish, the only writer of output_bytes), in
-- the same statement. The CHECK on clients.bytes_used makes an over-quota insert or finish fail
-- atomically (SQLSTATE 23514). Statement-level triggers with transition tables: many jobs of one
-- client in one statement update that client's row once. (A trigger on every UPDATE of jobs cost
-- the queue a third of its throughput: bench/README.md.)
CREATE FUNCTION docflow_jobs_quota() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE clients c SET bytes_used = c.bytes_used + d.delta
        FROM (SELECT client_id, sum(input_bytes) AS delta FROM new_rows GROUP BY client_id) d
        WHERE c.id = d.client_id;
    ELSE
        UPDATE clients c SET bytes_used = c.bytes_used - d.delta
        FROM (SELECT client_id, sum(input_bytes + coalesce(output_bytes, 0)) AS delta FROM old_rows GROUP BY client_id) d
        WHERE c.id = d.client_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_quota_insert AFTER INSERT ON jobs REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION docflow_jobs_quota();
CREATE TRIGGER jobs_quota_delete AFTER DELETE ON jobs REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION docflow_jobs_quota();

-- Events: every state change notifies in its own transaction (delivered on commit only).
-- docflow_jobs wakes runners (new pending work); docflow_events carries
-- "<client_id>|{"type": …, "job": {…}}" to the WebSocket gateway, which routes on the prefix.
-- Progress events are sent only when the runner writes progress, which it throttles.
-- (A statement-level version with transition tables, batching one client's events into one
-- notification, measured slower in the queue benchmark: bench/README.md.)
CREATE FUNCTION docflow_jobs_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kind text;
    body text;
    row_ jobs;
BEGIN
    IF TG_OP = 'DELETE' THEN
        row_ := OLD;
        kind := CASE WHEN current_setting('docflow.delete_reason', true) = 'expired'
                     THEN 'job_expired' ELSE 'job_deleted' END;
    ELSE
        row_ := NEW;
        IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
            kind := CASE NEW.status
                WHEN 'PENDING' THEN 'job_queued'
                WHEN 'PROCESSING' THEN 'job_processing'
                WHEN 'DONE' THEN 'job_done'
                WHEN 'FAILED' THEN 'job_failed'
                WHEN 'CANCELED' THEN 'job_canceled' END;
            IF NEW.status = 'PENDING' THEN
                PERFORM pg_notify('docflow_jobs', '');
            END IF;
        ELSIF NEW.progress IS DISTINCT FROM OLD.progress OR NEW.step IS DISTINCT FROM OLD.step THEN
            kind := 'job_progress';
        ELSE
            RETURN NULL;
        END IF;
    END IF;
    IF kind IN ('job_processing', 'job_progress') THEN
        -- Frequent events carry only what changes (clients have the job from job_queued).
        body := json_build_object('type', kind, 'job', json_build_object(
            'id', row_.id, 'status', row_.status, 'progress', row_.progress, 'step', row_.step,
            'attempt', row_.attempt, 'started_at', row_.started_at))::text;
    ELSE
        body := json_build_object('type', kind, 'job', docflow_job_json(row_))::text;
    END IF;
    IF octet_length(body) > 7900 THEN
        -- NOTIFY payloads stop at 8000 bytes; events are hints, clients re-read the job over HTTP.
        body := json_build_object('type', kind, 'job', json_build_object(
            'id', row_.id, 'status', row_.status, 'progress', row_.progress, 'truncated', true))::text;
    END IF;
    PERFORM pg_notify('docflow_events', row_.client_id || '|' || body);
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_notify AFTER INSERT OR DELETE OR UPDATE ON jobs
    FOR EACH ROW EXECUTE FUNCTION docflow_jobs_notify();
