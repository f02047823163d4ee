-- Job history (issue 16): every state change of a job, with its time and attempt, recorded by
-- triggers in the same transaction as the change itself — nothing can change a job without its
-- history saying so, and a change that rolls back leaves no event. The history of a job outlives
-- the job's row when its client deletes it (the last event says so) and goes with the client (a
-- trigger on clients below): the janitor expires it with the job.
--
-- The same rows feed /metrics: the long-running fcgi-app folds the events committed since its last
-- scrape into cumulative histograms (README: Metrics). `xact` is the writing transaction's id: all
-- transactions below pg_snapshot_xmin(pg_current_snapshot()) have ended, so reading
-- [last xmin, current xmin) sees every committed event exactly once, whatever the commit order.
CREATE TYPE job_event_kind AS ENUM (
    'queued',    -- inserted (upload or direct-upload job)
    'claimed',   -- taken by a runner: detail.runner is "host:pid", detail.wait_seconds the time it was claimable
    'progress',  -- a quarter of the work passed (25, 50, 75 %): detail.progress, detail.step
    'released',  -- given back unstarted by its runner (the attempt is not counted)
    'retried',   -- the attempt failed and the job is back in the queue: detail.code, detail.message
    'rescued',   -- its runner died or stalled; back in the queue (code runner_lost)
    'done',      -- detail.seconds (conversion), detail.output_bytes, detail.warnings (count)
    'failed',    -- given up: detail.code, detail.message, detail.seconds
    'requeued',  -- a failed job put back by its client (POST /api/jobs/{id}/retry)
    'canceled',
    'deleted'    -- deleted by its client (detail.status: the state it was in)
);

CREATE TABLE job_events (
    -- No foreign key: it would take a KEY SHARE lock on the client's row with every event, and the
    -- runner's finish locks client rows FOR UPDATE (in id order, for the quota): two runners
    -- finishing jobs of the same clients then deadlocked (the queue tests caught it). The history
    -- goes with its client by the trigger below instead.
    client_id uuid           NOT NULL,
    job_id    uuid           NOT NULL,
    id        bigint         GENERATED ALWAYS AS IDENTITY,
    at        timestamptz    NOT NULL DEFAULT clock_timestamp(),
    kind      job_event_kind NOT NULL,
    attempt   integer        NOT NULL CHECK (attempt >= 0),
    -- The conversion pair, "csv>xlsx": the label of the metrics.
    pair      text           NOT NULL,
    detail    jsonb          NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object'),
    xact      xid8           NOT NULL DEFAULT pg_current_xact_id(),
    -- Serves the API (a client's job, in order) and the delete with the client (leading column).
    PRIMARY KEY (client_id, job_id, id)
);
-- The metrics reader's range scan.
CREATE INDEX job_events_xact ON job_events (xact);

CREATE FUNCTION docflow_jobs_history() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kind_ job_event_kind;
    detail_ jsonb := '{}';
    attempt_ integer := NEW.attempt;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO job_events (client_id, job_id, kind, attempt, pair, detail)
        VALUES (NEW.client_id, NEW.id, 'queued', NEW.attempt, NEW.input_format || '>' || NEW.output_format,
                jsonb_build_object('priority', NEW.priority, 'input_bytes', NEW.input_bytes));
        RETURN NULL;
    END IF;
    IF NEW.status IS NOT DISTINCT FROM OLD.status THEN
        kind_ := 'progress';
        detail_ := jsonb_build_object('progress', NEW.progress, 'step', NEW.step);
    ELSIF NEW.status = 'PROCESSING' THEN
        kind_ := 'claimed';
        detail_ := jsonb_build_object('runner', NEW.locked_by,
                                      'wait_seconds', greatest(extract(epoch FROM now() - OLD.run_after), 0)::float8);
    ELSIF NEW.status = 'PENDING' AND OLD.status = 'PROCESSING' AND NEW.attempt < OLD.attempt THEN
        kind_ := 'released';
        attempt_ := OLD.attempt;
        detail_ := jsonb_build_object('runner', OLD.locked_by);
    ELSIF NEW.status = 'PENDING' AND OLD.status = 'PROCESSING' THEN
        kind_ := CASE WHEN NEW.error_code = 'runner_lost' THEN 'rescued' ELSE 'retried' END;
        detail_ := jsonb_build_object('code', NEW.error_code, 'message', NEW.error_message, 'runner', OLD.locked_by,
                                      'seconds', extract(epoch FROM now() - OLD.started_at)::float8, 'run_after', NEW.run_after);
    ELSIF NEW.status = 'PENDING' THEN
        kind_ := 'requeued';
    ELSIF NEW.status = 'DONE' THEN
        kind_ := 'done';
        detail_ := jsonb_build_object('seconds', extract(epoch FROM NEW.processed_at - OLD.started_at)::float8,
                                      'input_bytes', NEW.input_bytes, 'output_bytes', NEW.output_bytes,
                                      'warnings', jsonb_array_length(NEW.warnings));
    ELSIF NEW.status = 'FAILED' THEN
        kind_ := 'failed';
        detail_ := jsonb_build_object('code', NEW.error_code, 'message', NEW.error_message,
                                      'seconds', extract(epoch FROM now() - OLD.started_at)::float8);
    ELSE
        kind_ := 'canceled';
    END IF;
    INSERT INTO job_events (client_id, job_id, kind, attempt, pair, detail)
    VALUES (NEW.client_id, NEW.id, kind_, attempt_, NEW.input_format || '>' || NEW.output_format, jsonb_strip_nulls(detail_));
    RETURN NULL;
END
$$;

CREATE FUNCTION docflow_jobs_history_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Expiry deletes the client in the same transaction, and its history with it.
    IF current_setting('docflow.delete_reason', true) IS DISTINCT FROM 'expired' THEN
        INSERT INTO job_events (client_id, job_id, kind, attempt, pair, detail)
        VALUES (OLD.client_id, OLD.id, 'deleted', OLD.attempt, OLD.input_format || '>' || OLD.output_format,
                jsonb_build_object('status', OLD.status));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_history_insert AFTER INSERT ON jobs
    FOR EACH ROW EXECUTE FUNCTION docflow_jobs_history();
-- Heartbeats (lease_until only) fire nothing: the WHEN clause is checked before any function runs.
CREATE TRIGGER jobs_history_update AFTER UPDATE OF status, progress ON jobs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.progress / 25 <> NEW.progress / 25)
    EXECUTE FUNCTION docflow_jobs_history();
CREATE TRIGGER jobs_history_delete AFTER DELETE ON jobs
    FOR EACH ROW EXECUTE FUNCTION docflow_jobs_history_delete();

-- What belongs to a client and has no foreign key to it goes when the client's row goes.
CREATE FUNCTION docflow_clients_forget() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM job_events e USING old_rows o WHERE e.client_id = o.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER clients_forget AFTER DELETE ON clients REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION docflow_clients_forget();

-- One event as clients see it: time, kind, attempt and the kind's details.
CREATE FUNCTION docflow_job_event_json(e job_events) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('at', e.at, 'kind', e.kind, 'attempt', e.attempt) || e.detail
$$;
