-- Traces (issue 16): the W3C traceparent of the span that made the job (fcgi-app's request span,
-- itself the child of a client's traceparent when one was sent). Runners continue the trace from
-- it; it rides with every event to the gateway. NULL when tracing was off at the upload.
ALTER TABLE jobs ADD COLUMN trace_context text
    CHECK (trace_context ~ '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$');

-- Events now carry the job's trace context between the client id and the body:
-- "<client_id>|<traceparent or empty>|{"type": …, "job": {…}}" (the gateway reads both this and
-- the former "<client_id>|{…}"). Otherwise as in m0002 (restated whole: forward-only migrations).
CREATE OR REPLACE FUNCTION docflow_jobs_notify() RETURNS trigger
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
    PERFORM pg_notify('docflow_events', row_.client_id || '|' || coalesce(row_.trace_context, '') || '|' || body);
    RETURN NULL;
END
$$;
