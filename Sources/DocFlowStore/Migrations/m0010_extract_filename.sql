-- The extraction target (issue 15): its download is NAME.extract.json, the only output whose
-- file extension is not its format id. Otherwise as in m0009 (restated whole: forward-only
-- migrations).
CREATE OR REPLACE FUNCTION docflow_job_json(j jobs) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', j.id,
        'status', j.status,
        'input_filename', j.input_filename,
        'input_format', j.input_format,
        'output_format', j.output_format,
        'output_filename', coalesce(nullif(regexp_replace(j.input_filename, '\.[^.]*$', ''), ''), 'output')
                           || '.' || CASE j.output_format WHEN 'extract' THEN 'extract.json' ELSE j.output_format END,
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
