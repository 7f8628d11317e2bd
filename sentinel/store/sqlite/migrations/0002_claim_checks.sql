-- Version 2: the claim codes users have shown to know, as in the
-- PostgreSQL schema's version 2 (sentinel/store/migrations).
CREATE TABLE claim_checks (
    node_id    TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (node_id, user_id)
) STRICT;
