-- Version 4: the part of a job's range no chunk row covers yet, as in the
-- PostgreSQL schema's version 4 (sentinel/store/migrations). SQLite's
-- INTEGER is 64-bit already. A job with unassigned work is announced like
-- a pending chunk, with the job's id.
CREATE TABLE jobs_unassigned (
    job_id      TEXT NOT NULL PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    next_offset INTEGER NOT NULL CHECK (next_offset >= 0),
    total       INTEGER NOT NULL CHECK (total > next_offset)
) STRICT;
CREATE TRIGGER jobs_unassigned_pending AFTER INSERT ON jobs_unassigned BEGIN
    INSERT INTO feed_outbox (kind, row_id) VALUES ('pending_chunk', NEW.job_id);
END;

-- The sized-chunk offer of each node, as in the PostgreSQL schema.
CREATE TABLE nodes_chunk_offers (
    node_id    TEXT NOT NULL PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
    chunk_max  INTEGER NOT NULL CHECK (chunk_max > 0),
    throughput REAL NOT NULL CHECK (throughput >= 0)
) STRICT;
