-- Initial schema, version 1: the same tables and columns as the PostgreSQL
-- schema's version 1 (sentinel/store/migrations/0001_init.sql), mapped to
-- SQLite. Tables are STRICT. Mapping:
--   uuid        TEXT, lowercase canonical form (the store canonicalises ids)
--   timestamptz TEXT, UTC with microseconds, fixed width
--               ('2006-01-02T15:04:05.000000Z'), so text order is time order
--   jsonb       TEXT holding valid JSON; uuid[] a JSON array of strings
--   bool        INTEGER 0 or 1
-- feed_outbox is SQLite-only: triggers queue the change feed in it and the
-- store drains it inside the same transaction, publishing after commit.

CREATE TABLE users (
    id          TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'))
) STRICT;

CREATE TABLE nodes (
    id           TEXT NOT NULL PRIMARY KEY,
    user_id      TEXT NULL REFERENCES users (id) ON DELETE SET NULL,
    name         TEXT NOT NULL DEFAULT 'My Node',
    max_parallel INTEGER NOT NULL DEFAULT 4,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'online', 'offline')),
    last_seen_at TEXT NULL,
    version      TEXT NOT NULL DEFAULT '',
    total_cores  INTEGER NOT NULL DEFAULT 0,
    platform     TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')),
    public_key   TEXT NOT NULL UNIQUE,
    claim_code   TEXT NULL
) STRICT;
CREATE INDEX nodes_claim_code_idx ON nodes (claim_code) WHERE claim_code IS NOT NULL;
CREATE INDEX nodes_user_id_idx ON nodes (user_id);

CREATE TABLE nodes_permissions (
    id          TEXT NOT NULL PRIMARY KEY,
    node_id     TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    access_type TEXT NOT NULL CHECK (access_type IN ('user', 'discord')),
    target_id   TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')),
    UNIQUE (node_id, access_type, target_id)
) STRICT;

CREATE TABLE jobs_configs (
    hash         TEXT NOT NULL PRIMARY KEY,
    config       TEXT NOT NULL CHECK (json_valid(config)),
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')),
    last_used_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'))
) STRICT;

CREATE TABLE jobs (
    id                   TEXT NOT NULL PRIMARY KEY,
    user_id              TEXT NOT NULL REFERENCES users (id),
    config_hash          TEXT NOT NULL REFERENCES jobs_configs (hash),
    total_iterations     INTEGER NOT NULL,
    completed_iterations INTEGER NOT NULL DEFAULT 0,
    status               TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    result               TEXT NULL CHECK (result IS NULL OR json_valid(result)),
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')),
    completed_at         TEXT NULL,
    access_type          TEXT NOT NULL DEFAULT 'private' CHECK (access_type IN ('private', 'public', 'user', 'discord')),
    discord_server_id    TEXT NULL,
    error                TEXT NULL -- extension: why the job failed
) STRICT;
CREATE INDEX jobs_user_id_idx ON jobs (user_id);
CREATE INDEX jobs_config_hash_idx ON jobs (config_hash);

CREATE TABLE jobs_chunks (
    id                TEXT NOT NULL PRIMARY KEY,
    job_id            TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    node_id           TEXT NULL REFERENCES nodes (id) ON DELETE SET NULL,
    config_hash       TEXT NOT NULL,
    iterations        INTEGER NOT NULL,
    seed_offset       INTEGER NOT NULL,
    status            TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    result            TEXT NULL CHECK (result IS NULL OR json_valid(result)),
    claimed_at        TEXT NULL,
    completed_at      TEXT NULL,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')),
    attempts          INTEGER NOT NULL DEFAULT 0, -- extension: failed attempts
    last_error        TEXT NULL,                  -- extension: last failure text
    previous_node_ids TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(previous_node_ids)) -- extension: earlier holders
) STRICT;
CREATE INDEX jobs_chunks_job_id_idx ON jobs_chunks (job_id);
CREATE INDEX jobs_chunks_pending_idx ON jobs_chunks (created_at, seed_offset) WHERE status = 'pending';
CREATE INDEX jobs_chunks_running_idx ON jobs_chunks (node_id) WHERE status = 'running';

CREATE TABLE rotations (
    id              TEXT NOT NULL PRIMARY KEY,
    user_id         TEXT NULL REFERENCES users (id) ON DELETE SET NULL,
    slug            TEXT NOT NULL,
    name            TEXT NOT NULL,
    script          TEXT NOT NULL,
    description     TEXT NULL,
    is_public       INTEGER NOT NULL DEFAULT 0 CHECK (is_public IN (0, 1)),
    spec_id         INTEGER NULL,
    current_version INTEGER NOT NULL DEFAULT 1,
    checksum        TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')),
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'))
) STRICT;

-- rotations.checksum is kept current by the database (PROTOCOL section 4).
-- wowlab_sha256 is registered on every connection the store opens.
CREATE TRIGGER rotations_checksum_insert AFTER INSERT ON rotations BEGIN
    UPDATE rotations SET checksum = wowlab_sha256(NEW.script) WHERE id = NEW.id;
END;
CREATE TRIGGER rotations_checksum_update AFTER UPDATE OF script ON rotations BEGIN
    UPDATE rotations SET checksum = wowlab_sha256(NEW.script) WHERE id = NEW.id;
END;

-- Signatures of signed node requests seen recently.
CREATE TABLE seen_signatures (
    signature  TEXT NOT NULL PRIMARY KEY,
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX seen_signatures_expires_idx ON seen_signatures (expires_at);

-- When each periodic task last ran.
CREATE TABLE maintenance_runs (
    name        TEXT NOT NULL PRIMARY KEY,
    last_run_at TEXT NOT NULL
) STRICT;

-- The change feed's outbox. kind 'change' rows carry the table, operation,
-- row id and (UPDATE, DELETE) the old key columns as a JSON object; kind
-- 'pending_chunk' rows carry a chunk id. Always empty between transactions
-- of the store.
CREATE TABLE feed_outbox (
    seq    INTEGER PRIMARY KEY,
    kind   TEXT NOT NULL CHECK (kind IN ('change', 'pending_chunk')),
    tbl    TEXT NULL,
    op     TEXT NULL,
    row_id TEXT NOT NULL,
    old    TEXT NULL
) STRICT;

-- nodes: old keys id, user_id. An update moving only last_seen_at (a
-- heartbeat) is not announced: the WHEN clause compares every other column.
CREATE TRIGGER nodes_change_insert AFTER INSERT ON nodes BEGIN
    INSERT INTO feed_outbox (kind, tbl, op, row_id) VALUES ('change', 'nodes', 'INSERT', NEW.id);
END;
CREATE TRIGGER nodes_change_update AFTER UPDATE ON nodes
WHEN OLD.id IS NOT NEW.id OR OLD.user_id IS NOT NEW.user_id OR OLD.name IS NOT NEW.name
  OR OLD.max_parallel IS NOT NEW.max_parallel OR OLD.status IS NOT NEW.status
  OR OLD.version IS NOT NEW.version OR OLD.total_cores IS NOT NEW.total_cores
  OR OLD.platform IS NOT NEW.platform OR OLD.created_at IS NOT NEW.created_at
  OR OLD.public_key IS NOT NEW.public_key OR OLD.claim_code IS NOT NEW.claim_code
BEGIN
    INSERT INTO feed_outbox (kind, tbl, op, row_id, old)
    VALUES ('change', 'nodes', 'UPDATE', NEW.id, json_object('id', OLD.id, 'user_id', OLD.user_id));
END;
CREATE TRIGGER nodes_change_delete AFTER DELETE ON nodes BEGIN
    INSERT INTO feed_outbox (kind, tbl, op, row_id, old)
    VALUES ('change', 'nodes', 'DELETE', OLD.id, json_object('id', OLD.id, 'user_id', OLD.user_id));
END;

-- jobs: old keys id, user_id, status.
CREATE TRIGGER jobs_change_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO feed_outbox (kind, tbl, op, row_id) VALUES ('change', 'jobs', 'INSERT', NEW.id);
END;
CREATE TRIGGER jobs_change_update AFTER UPDATE ON jobs BEGIN
    INSERT INTO feed_outbox (kind, tbl, op, row_id, old)
    VALUES ('change', 'jobs', 'UPDATE', NEW.id, json_object('id', OLD.id, 'user_id', OLD.user_id, 'status', OLD.status));
END;
CREATE TRIGGER jobs_change_delete AFTER DELETE ON jobs BEGIN
    INSERT INTO feed_outbox (kind, tbl, op, row_id, old)
    VALUES ('change', 'jobs', 'DELETE', OLD.id, json_object('id', OLD.id, 'user_id', OLD.user_id, 'status', OLD.status));
END;

-- jobs_chunks: old keys id, job_id, node_id, status; then pending_chunk when
-- the chunk became pending with no node (the PostgreSQL trigger order).
CREATE TRIGGER jobs_chunks_change_insert AFTER INSERT ON jobs_chunks BEGIN
    INSERT INTO feed_outbox (kind, tbl, op, row_id) VALUES ('change', 'jobs_chunks', 'INSERT', NEW.id);
    INSERT INTO feed_outbox (kind, row_id)
    SELECT 'pending_chunk', NEW.id WHERE NEW.status = 'pending' AND NEW.node_id IS NULL;
END;
CREATE TRIGGER jobs_chunks_change_update AFTER UPDATE ON jobs_chunks BEGIN
    INSERT INTO feed_outbox (kind, tbl, op, row_id, old)
    VALUES ('change', 'jobs_chunks', 'UPDATE', NEW.id,
            json_object('id', OLD.id, 'job_id', OLD.job_id, 'node_id', OLD.node_id, 'status', OLD.status));
    INSERT INTO feed_outbox (kind, row_id)
    SELECT 'pending_chunk', NEW.id WHERE NEW.status = 'pending' AND NEW.node_id IS NULL
        AND (OLD.status IS NOT 'pending' OR OLD.node_id IS NOT NULL);
END;
CREATE TRIGGER jobs_chunks_change_delete AFTER DELETE ON jobs_chunks BEGIN
    INSERT INTO feed_outbox (kind, tbl, op, row_id, old)
    VALUES ('change', 'jobs_chunks', 'DELETE', OLD.id,
            json_object('id', OLD.id, 'job_id', OLD.job_id, 'node_id', OLD.node_id, 'status', OLD.status));
END;
