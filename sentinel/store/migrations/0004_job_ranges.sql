-- Version 4: a job is a range of iterations carved into chunks as nodes are
-- given work. jobs_unassigned holds the part of a job's range no chunk row
-- covers yet, [next_offset, total); the row goes when nothing is left.
-- Iteration counts and offsets are 64-bit, for jobs of up to 10^12
-- iterations and more.
ALTER TABLE jobs ALTER COLUMN total_iterations TYPE bigint, ALTER COLUMN completed_iterations TYPE bigint;
ALTER TABLE jobs_chunks ALTER COLUMN seed_offset TYPE bigint;

CREATE TABLE jobs_unassigned (
    job_id      uuid PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    next_offset bigint NOT NULL CHECK (next_offset >= 0),
    total       bigint NOT NULL CHECK (total > next_offset)
);

-- pending_chunk also tells of a job with unassigned work: the schedulers of
-- every instance look for work on it (the payload is the job's id).
CREATE FUNCTION notify_unassigned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pending_chunk', NEW.job_id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER jobs_unassigned_pending AFTER INSERT ON jobs_unassigned
    FOR EACH ROW EXECUTE FUNCTION notify_unassigned();

-- Chunks sized to the node (protocol extension): the largest chunk a node
-- takes and the iterations per second it measured over all its workers,
-- as its registration and heartbeats announce them; no row: it announces
-- nothing and is given chunks of the protocol's fixed size. Kept apart
-- from nodes so that the rows and changes of nodes keep their shape.
CREATE TABLE nodes_chunk_offers (
    node_id    uuid PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
    chunk_max  int NOT NULL CHECK (chunk_max > 0),
    throughput double precision NOT NULL CHECK (throughput >= 0)
);
