-- Extension: the claim codes users have shown to know. verify_claim_code
-- records one, and claim_node with only a node id claims only a node whose
-- code the same user checked recently, so a claim is bound to the code and
-- not to the node id alone. Rows go with their node or user; claiming a
-- node removes its rows.
CREATE TABLE claim_checks (
    node_id    uuid NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (node_id, user_id)
);
