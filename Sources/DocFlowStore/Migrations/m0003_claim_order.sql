-- The claim orders by (priority DESC, created_at, id): id breaks ties between jobs created in the
-- same microsecond, in SQL (the runner no longer re-sorts). The index follows the order exactly.
CREATE INDEX jobs_claim_order ON jobs (priority DESC, created_at, id) WHERE status = 'PENDING';
DROP INDEX jobs_claim;
