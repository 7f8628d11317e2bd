-- Initial schema: the tables of PROTOCOL.md section 4 plus the sentinel's
-- own bookkeeping (users, replay memory, maintenance leases) and the
-- change-notification triggers. Business rules live in Go, not here.

CREATE TABLE users (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    token_hash  text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE nodes (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NULL REFERENCES users (id) ON DELETE SET NULL,
    name         text NOT NULL DEFAULT 'My Node',
    max_parallel int NOT NULL DEFAULT 4,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'online', 'offline')),
    last_seen_at timestamptz NULL,
    version      text NOT NULL DEFAULT '',
    total_cores  int NOT NULL DEFAULT 0,
    platform     text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    public_key   text NOT NULL UNIQUE,
    claim_code   text NULL
);
CREATE INDEX nodes_claim_code_idx ON nodes (claim_code) WHERE claim_code IS NOT NULL;
CREATE INDEX nodes_user_id_idx ON nodes (user_id);

CREATE TABLE nodes_permissions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    node_id     uuid NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    access_type text NOT NULL CHECK (access_type IN ('user', 'discord')),
    target_id   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (node_id, access_type, target_id)
);

CREATE TABLE jobs_configs (
    hash         text PRIMARY KEY,
    config       jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE jobs (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id              uuid NOT NULL REFERENCES users (id),
    config_hash          text NOT NULL REFERENCES jobs_configs (hash),
    total_iterations     int NOT NULL,
    completed_iterations int NOT NULL DEFAULT 0,
    status               text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    result               jsonb NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    completed_at         timestamptz NULL,
    access_type          text NOT NULL DEFAULT 'private' CHECK (access_type IN ('private', 'public', 'user', 'discord')),
    discord_server_id    text NULL,
    error                text NULL -- extension: why the job failed
);
CREATE INDEX jobs_user_id_idx ON jobs (user_id);
CREATE INDEX jobs_config_hash_idx ON jobs (config_hash);

CREATE TABLE jobs_chunks (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id            uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    node_id           uuid NULL REFERENCES nodes (id) ON DELETE SET NULL,
    config_hash       text NOT NULL,
    iterations        int NOT NULL,
    seed_offset       int NOT NULL,
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    result            jsonb NULL,
    claimed_at        timestamptz NULL,
    completed_at      timestamptz NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    attempts          int NOT NULL DEFAULT 0,    -- extension: failed attempts
    last_error        text NULL,                 -- extension: last failure text
    previous_node_ids uuid[] NOT NULL DEFAULT '{}' -- extension: earlier holders
);
CREATE INDEX jobs_chunks_job_id_idx ON jobs_chunks (job_id);
CREATE INDEX jobs_chunks_pending_idx ON jobs_chunks (created_at, seed_offset) WHERE status = 'pending';
CREATE INDEX jobs_chunks_running_idx ON jobs_chunks (node_id) WHERE status = 'running';

CREATE TABLE rotations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NULL REFERENCES users (id) ON DELETE SET NULL,
    slug            text NOT NULL,
    name            text NOT NULL,
    script          text NOT NULL,
    description     text NULL,
    is_public       bool NOT NULL DEFAULT false,
    spec_id         int NULL,
    current_version int NOT NULL DEFAULT 1,
    checksum        text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- rotations.checksum is kept current by the database (PROTOCOL section 4).
CREATE FUNCTION rotations_checksum() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.checksum := encode(sha256(convert_to(NEW.script, 'UTF8')), 'hex');
    RETURN NEW;
END $$;
CREATE TRIGGER rotations_checksum BEFORE INSERT OR UPDATE OF script ON rotations
    FOR EACH ROW EXECUTE FUNCTION rotations_checksum();

-- Signatures of signed node requests seen recently, shared by all sentinel
-- instances so a replay is refused whichever instance it reaches.
CREATE TABLE seen_signatures (
    signature  text PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX seen_signatures_expires_idx ON seen_signatures (expires_at);

-- When each periodic task that must run once across instances last ran.
CREATE TABLE maintenance_runs (
    name        text PRIMARY KEY,
    last_run_at timestamptz NOT NULL
);

-- pending_chunk: a chunk became pending with no node (PROTOCOL section 4).
CREATE FUNCTION notify_pending_chunk() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'pending' AND NEW.node_id IS NULL THEN
        IF TG_OP = 'INSERT' THEN
            PERFORM pg_notify('pending_chunk', NEW.id::text);
        ELSIF OLD.status IS DISTINCT FROM 'pending' OR OLD.node_id IS NOT NULL THEN
            PERFORM pg_notify('pending_chunk', NEW.id::text);
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER jobs_chunks_pending AFTER INSERT OR UPDATE ON jobs_chunks
    FOR EACH ROW EXECUTE FUNCTION notify_pending_chunk();

-- wowlab_change: the change feed. The payload names the table, operation and
-- row id, plus for UPDATE and DELETE the old row's key columns given as
-- trigger arguments, so it stays far below the 8000-byte limit; readers
-- re-read the row.
CREATE FUNCTION notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    new_row  jsonb;
    old_row  jsonb;
    old_keys jsonb;
    col      text;
BEGIN
    IF TG_OP <> 'DELETE' THEN
        new_row := to_jsonb(NEW);
    END IF;
    IF TG_OP <> 'INSERT' THEN
        old_row := to_jsonb(OLD);
        -- A heartbeat only moving last_seen_at is not a change worth telling.
        IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'nodes'
           AND (new_row - 'last_seen_at') = (old_row - 'last_seen_at') THEN
            RETURN NULL;
        END IF;
        old_keys := jsonb_build_object('id', old_row -> 'id');
        FOREACH col IN ARRAY TG_ARGV LOOP
            old_keys := old_keys || jsonb_build_object(col, old_row -> col);
        END LOOP;
    END IF;
    PERFORM pg_notify('wowlab_change', jsonb_build_object(
        'table', TG_TABLE_NAME,
        'op', TG_OP,
        'id', COALESCE(new_row -> 'id', old_row -> 'id'),
        'old', old_keys,
        'at', clock_timestamp())::text);
    RETURN NULL;
END $$;
CREATE TRIGGER nodes_change AFTER INSERT OR UPDATE OR DELETE ON nodes
    FOR EACH ROW EXECUTE FUNCTION notify_change('user_id');
CREATE TRIGGER jobs_change AFTER INSERT OR UPDATE OR DELETE ON jobs
    FOR EACH ROW EXECUTE FUNCTION notify_change('user_id', 'status');
CREATE TRIGGER jobs_chunks_change AFTER INSERT OR UPDATE OR DELETE ON jobs_chunks
    FOR EACH ROW EXECUTE FUNCTION notify_change('job_id', 'node_id', 'status');
