-- Version 5: the row triggers of jobs_chunks cost less per row, which a
-- batch of completions (hundreds of rows in one statement) pays for each.
--
-- pending_chunk is told only of a row that is pending with no node: the
-- trigger's condition now says so, so that other updates (a completion, an
-- assignment) do not call the function at all.
DROP TRIGGER jobs_chunks_pending ON jobs_chunks;
CREATE TRIGGER jobs_chunks_pending AFTER INSERT OR UPDATE ON jobs_chunks
    FOR EACH ROW WHEN (NEW.status = 'pending' AND NEW.node_id IS NULL)
    EXECUTE FUNCTION notify_pending_chunk();

-- The change feed of jobs_chunks names its old key columns directly
-- instead of converting whole rows (results included) to JSON: the payload
-- is the one notify_change('job_id', 'node_id', 'status') gives.
CREATE FUNCTION notify_chunk_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_keys jsonb;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_keys := jsonb_build_object('id', OLD.id, 'job_id', OLD.job_id, 'node_id', OLD.node_id, 'status', OLD.status);
    END IF;
    PERFORM pg_notify('wowlab_change', jsonb_build_object(
        'table', TG_TABLE_NAME,
        'op', TG_OP,
        'id', CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END,
        'old', old_keys,
        'at', clock_timestamp())::text);
    RETURN NULL;
END $$;
DROP TRIGGER jobs_chunks_change ON jobs_chunks;
CREATE TRIGGER jobs_chunks_change AFTER INSERT OR UPDATE OR DELETE ON jobs_chunks
    FOR EACH ROW EXECUTE FUNCTION notify_chunk_change();
