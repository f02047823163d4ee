-- Idempotency-Key conflicts (issue 17): what the request that made a job asked for, as a digest,
-- so a reuse of its key with another request (another file, name, target, options, priority or
-- callback URL) is refused with 422 instead of answered with this job, as Stripe does. Options
-- are digested as jsonb text (keys in one order), so the same options written differently match.
-- NULL for jobs made without a key, and for those made before this migration (taken as a match).
ALTER TABLE jobs ADD COLUMN request_fingerprint text CHECK (request_fingerprint ~ '^[0-9a-f]{64}$');

CREATE FUNCTION docflow_request_fingerprint(input_sha256 text, input_filename text, output_format text,
                                            options jsonb, priority integer, callback_url text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(concat_ws(chr(31), input_sha256, input_filename, output_format,
                                              options::text, priority::text, coalesce(callback_url, '')), 'UTF8')), 'hex')
$$;
