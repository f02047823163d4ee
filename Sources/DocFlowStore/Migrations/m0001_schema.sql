-- Doc Flow schema: anonymous clients with a byte quota, and jobs as queue rows.
-- Invariants live here, not in application code.

CREATE TYPE job_status AS ENUM ('PENDING', 'PROCESSING', 'DONE', 'FAILED', 'CANCELED');

CREATE TABLE clients (
    id          uuid PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    bytes_used  bigint      NOT NULL DEFAULT 0,
    bytes_limit bigint      NOT NULL,
    CONSTRAINT clients_bytes_used_nonnegative CHECK (bytes_used >= 0),
    -- The quota itself: no statement can leave a client over its limit.
    CONSTRAINT clients_quota CHECK (bytes_used <= bytes_limit),
    CONSTRAINT clients_expiry_after_creation CHECK (expires_at > created_at)
);
CREATE INDEX clients_expires_at ON clients (expires_at);

CREATE TABLE jobs (
    id              uuid        PRIMARY KEY,
    client_id       uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    status          job_status  NOT NULL DEFAULT 'PENDING',
    input_filename  text        NOT NULL CHECK (length(input_filename) BETWEEN 1 AND 255),
    input_format    text        NOT NULL CHECK (input_format ~ '^[a-z0-9]{1,10}$'),
    input_path      text        NOT NULL,
    input_bytes     bigint      NOT NULL CHECK (input_bytes >= 0),
    input_sha256    text        NOT NULL CHECK (input_sha256 ~ '^[0-9a-f]{64}$'),
    output_format   text        NOT NULL CHECK (output_format ~ '^[a-z0-9]{1,10}$'),
    output_path     text,
    output_bytes    bigint      CHECK (output_bytes >= 0),
    options         jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object'),
    priority        smallint    NOT NULL DEFAULT 5 CHECK (priority BETWEEN 1 AND 10),
    progress        smallint    NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    step            text,
    attempt         integer     NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts    integer     NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 20),
    run_after       timestamptz NOT NULL DEFAULT now(),
    lease_until     timestamptz,
    locked_by       text,
    error_code      text,
    error_message   text,
    warnings        jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(warnings) = 'array'),
    metadata        jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    idempotency_key text        CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    processed_at    timestamptz,
    expires_at      timestamptz NOT NULL,
    CONSTRAINT jobs_attempts CHECK (attempt <= max_attempts),
    CONSTRAINT jobs_processing_has_lease CHECK (status <> 'PROCESSING' OR lease_until IS NOT NULL),
    CONSTRAINT jobs_done_has_output CHECK (status <> 'DONE' OR (output_path IS NOT NULL AND output_bytes IS NOT NULL)),
    CONSTRAINT jobs_failed_has_reason CHECK (status <> 'FAILED' OR error_message IS NOT NULL)
);

-- Every index costs each non-HOT update of a job (two per job at least), so there are few and
-- the situational ones are partial.

-- The claim reads only pending rows, best first: a small partial index.
CREATE INDEX jobs_claim ON jobs (priority DESC, created_at) WHERE status = 'PENDING';
-- Rescue of expired leases reads only processing rows.
CREATE INDEX jobs_processing_lease ON jobs (lease_until) WHERE status = 'PROCESSING';
-- A client's job list, newest or oldest first, with (created_at, id) cursors.
CREATE INDEX jobs_client_created ON jobs (client_id, created_at, id);
-- Idempotency-Key: unique per client; jobs without a key are not in the index at all.
CREATE UNIQUE INDEX jobs_idempotency ON jobs (client_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
