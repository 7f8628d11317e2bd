package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

// ---- users ----

// CreateUser stores a new user.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	id, err := newID("user", u.ID)
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO users (id, name, token_hash, created_at) VALUES (?, ?, ?, ?)",
			id, u.Name, u.TokenHash, fmtTime(u.CreatedAt)); err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		return nil
	})
}

const userCols = "id, name, token_hash, created_at"

func scanUser(row interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	err := row.Scan(&u.ID, &u.Name, &u.TokenHash, timeCol{&u.CreatedAt})
	return u, err
}

// UserByID returns a user or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	id, err := lookupID("user", id)
	if err != nil {
		return store.User{}, err
	}
	u, err := scanUser(s.reader.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE id = ?", id))
	return u, notFound(err, "user "+id)
}

// UserByTokenHash returns the user owning a token or ErrNotFound.
func (s *Store) UserByTokenHash(ctx context.Context, hash string) (store.User, error) {
	u, err := scanUser(s.reader.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE token_hash = ?", hash))
	return u, notFound(err, "user by token")
}

// ---- nodes ----

const nodeCols = `id, coalesce(user_id, ''), name, max_parallel, status, last_seen_at, version,
	total_cores, platform, created_at, public_key, coalesce(claim_code, '')`

// nodeFullJoin adds the node's capacity and sized-chunk offer to a read of
// nodeCols (scanNodeFull reads them).
const nodeFullJoin = `, nodes.capacity, coalesce(o.chunk_max, 0), coalesce(o.throughput, 0)
	FROM nodes LEFT JOIN nodes_chunk_offers o ON o.node_id = nodes.id`

func scanNodeFull(row interface{ Scan(...any) error }) (store.Node, error) {
	var n store.Node
	var capacity sql.NullInt64
	err := row.Scan(&n.ID, &n.UserID, &n.Name, &n.MaxParallel, &n.Status, timeCol{&n.LastSeenAt}, &n.Version,
		&n.TotalCores, &n.Platform, timeCol{&n.CreatedAt}, &n.PublicKey, &n.ClaimCode, &capacity, &n.ChunkMax, &n.Throughput)
	if capacity.Valid {
		c := int(capacity.Int64)
		n.Capacity = &c
	}
	return n, err
}

func scanNode(row interface{ Scan(...any) error }) (store.Node, error) {
	var n store.Node
	err := row.Scan(&n.ID, &n.UserID, &n.Name, &n.MaxParallel, &n.Status, timeCol{&n.LastSeenAt}, &n.Version,
		&n.TotalCores, &n.Platform, timeCol{&n.CreatedAt}, &n.PublicKey, &n.ClaimCode)
	return n, err
}

func scanNodeRows(r *sql.Rows) (store.Node, error) { return scanNode(r) }

// RegisterNode returns the node with n.PublicKey, inserting it when new.
func (s *Store) RegisterNode(ctx context.Context, n store.NewNode, u store.NodeUpdate) (store.Node, bool, error) {
	var node store.Node
	var created bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		node, err = scanNode(tx.QueryRowContext(ctx, `INSERT INTO nodes (id, public_key, claim_code, version, platform, total_cores, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)
			ON CONFLICT (public_key) DO NOTHING RETURNING `+nodeCols,
			uuid.NewString(), n.PublicKey, n.ClaimCode, n.Version, n.Platform, n.TotalCores, fmtTime(n.Now)))
		if err == nil {
			created = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("register node: %w", err)
		}
		var renew any
		if !u.Renew.IsZero() {
			renew = fmtTime(u.Renew)
		}
		node, err = scanNode(tx.QueryRowContext(ctx, `UPDATE nodes SET version = ?, platform = ?, total_cores = ?,
				created_at = CASE WHEN user_id IS NULL THEN coalesce(?, created_at) ELSE created_at END
			WHERE public_key = ? RETURNING `+nodeCols, u.Version, u.Platform, u.TotalCores, renew, n.PublicKey))
		return notFound(err, "register node")
	})
	if err != nil {
		return store.Node{}, false, err
	}
	return node, created, nil
}

// NodeByID returns a node or ErrNotFound.
func (s *Store) NodeByID(ctx context.Context, id string) (store.Node, error) {
	return s.nodeByID(ctx, s.reader, id)
}

func (s *Store) nodeByID(ctx context.Context, q queryer, id string) (store.Node, error) {
	id, err := lookupID("node", id)
	if err != nil {
		return store.Node{}, err
	}
	n, err := scanNodeFull(q.QueryRowContext(ctx, "SELECT "+nodeCols+nodeFullJoin+" WHERE id = ?", id))
	return n, notFound(err, "node "+id)
}

// NodeByPublicKey returns a node or ErrNotFound.
func (s *Store) NodeByPublicKey(ctx context.Context, key string) (store.Node, error) {
	n, err := scanNodeFull(s.reader.QueryRowContext(ctx, "SELECT "+nodeCols+nodeFullJoin+" WHERE public_key = ?", key))
	return n, notFound(err, "node by key")
}

// NodeByClaimCode returns the unclaimed node with a claim code or ErrNotFound.
func (s *Store) NodeByClaimCode(ctx context.Context, code string) (store.Node, error) {
	n, err := scanNode(s.reader.QueryRowContext(ctx, `SELECT `+nodeCols+` FROM nodes
		WHERE claim_code = ? AND user_id IS NULL ORDER BY created_at DESC LIMIT 1`, code))
	return n, notFound(err, "node by claim code")
}

// ClaimNode gives an unclaimed node to a user.
func (s *Store) ClaimNode(ctx context.Context, c store.Claim) (store.Node, error) {
	nodeID, err := lookupID("node", c.NodeID)
	if err != nil {
		return store.Node{}, err
	}
	userID, err := lookupID("user", c.UserID)
	if err != nil {
		return store.Node{}, err
	}
	var n store.Node
	err = s.write(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = scanNode(tx.QueryRowContext(ctx, `UPDATE nodes SET user_id = ?, claim_code = NULL,
			name = coalesce(?, name), max_parallel = coalesce(?, max_parallel)
			WHERE id = ? AND user_id IS NULL RETURNING `+nodeCols, userID, c.Name, c.MaxParallel, nodeID))
		if err == nil {
			if _, err := tx.ExecContext(ctx, "DELETE FROM claim_checks WHERE node_id = ?", nodeID); err != nil {
				return fmt.Errorf("claim node: %w", err)
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("claim node: %w", err)
		}
		if _, err := s.nodeByID(ctx, tx, nodeID); err != nil {
			return err
		}
		return fmt.Errorf("node %s is already claimed: %w", nodeID, store.ErrConflict)
	})
	if err != nil {
		return store.Node{}, err
	}
	return n, nil
}

// RecordClaimCheck stores or extends a user's claim check of a node.
func (s *Store) RecordClaimCheck(ctx context.Context, c store.ClaimCheck) error {
	nodeID, err := lookupID("node", c.NodeID)
	if err != nil {
		return err
	}
	userID, err := lookupID("user", c.UserID)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		// The foreign keys would refuse a node or user that is gone with a
		// constraint error; answer ErrNotFound as PostgreSQL's store does.
		var known int
		if err := tx.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM nodes WHERE id = ?) + (SELECT count(*) FROM users WHERE id = ?)",
			nodeID, userID).Scan(&known); err != nil {
			return fmt.Errorf("record claim check: %w", err)
		}
		if known != 2 {
			return fmt.Errorf("record claim check: %w", store.ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO claim_checks (node_id, user_id, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (node_id, user_id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
			nodeID, userID, fmtTime(c.Expires)); err != nil {
			return fmt.Errorf("record claim check: %w", err)
		}
		return nil
	})
}

// ClaimCheckExpiry returns when a user's claim check of a node expires.
func (s *Store) ClaimCheckExpiry(ctx context.Context, nodeID, userID string) (time.Time, error) {
	nodeID, err := lookupID("node", nodeID)
	if err != nil {
		return time.Time{}, err
	}
	userID, err = lookupID("user", userID)
	if err != nil {
		return time.Time{}, err
	}
	var exp time.Time
	err = s.reader.QueryRowContext(ctx, "SELECT expires_at FROM claim_checks WHERE node_id = ? AND user_id = ?", nodeID, userID).Scan(timeCol{&exp})
	return exp, notFound(err, "claim check")
}

// ListNodes returns every node, newest first.
func (s *Store) ListNodes(ctx context.Context) ([]store.Node, error) {
	ns, err := collect(query(s.reader.QueryContext(ctx, "SELECT "+nodeCols+" FROM nodes ORDER BY created_at DESC, id")), scanNodeRows)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return ns, nil
}

// GrantNode lets another user's jobs use a node.
func (s *Store) GrantNode(ctx context.Context, nodeID, accessType, targetID string) error {
	id, err := newID("node", nodeID)
	if err != nil {
		return fmt.Errorf("grant node: %w", err)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO nodes_permissions (id, node_id, access_type, target_id, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, uuid.NewString(), id, accessType, targetID, fmtTime(s.now())); err != nil {
			return fmt.Errorf("grant node: %w", err)
		}
		return nil
	})
}

// TouchNodes records that claimed nodes are alive and online.
func (s *Store) TouchNodes(ctx context.Context, ids []string, now time.Time) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	canon := make([]string, 0, len(ids))
	for _, id := range ids {
		c, err := lookupID("node", id)
		if err != nil {
			return nil, err
		}
		canon = append(canon, c)
	}
	slices.Sort(canon)
	canon = slices.Compact(canon)
	var came []string
	err := s.write(ctx, func(tx *sql.Tx) error {
		came = nil
		at := fmtTime(now)
		for _, id := range canon {
			var old string
			err := tx.QueryRowContext(ctx, "SELECT status FROM nodes WHERE id = ? AND user_id IS NOT NULL", id).Scan(&old)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("touch nodes: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE nodes SET last_seen_at = max(coalesce(last_seen_at, ?1), ?1), status = 'online'
				WHERE id = ?2`, at, id); err != nil {
				return fmt.Errorf("touch nodes: %w", err)
			}
			if old != protocol.NodeOnline {
				came = append(came, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return came, nil
}

// SetNodeChunks records a node's sized-chunk offer.
func (s *Store) SetNodeChunks(ctx context.Context, id string, chunkMax int, throughput float64) error {
	id, err := lookupID("node", id)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if chunkMax == 0 {
			_, err = tx.ExecContext(ctx, "DELETE FROM nodes_chunk_offers WHERE node_id = ?", id)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO nodes_chunk_offers (node_id, chunk_max, throughput) VALUES (?1, ?2, ?3)
				ON CONFLICT (node_id) DO UPDATE SET chunk_max = excluded.chunk_max, throughput = excluded.throughput`, id, chunkMax, throughput)
		}
		if err != nil {
			return fmt.Errorf("set node chunks: %w", err)
		}
		return nil
	})
}

// MarkNodeOffline sets one online node offline.
func (s *Store) MarkNodeOffline(ctx context.Context, id string) (bool, error) {
	var changed bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE nodes SET status = 'offline' WHERE id = ? AND status = 'online'`, id)
		if err != nil {
			return fmt.Errorf("mark node offline: %w", err)
		}
		n, err := res.RowsAffected()
		changed = n == 1
		return err
	})
	return changed, err
}

// SetNodeCapacity records the capacity of a node's heartbeat.
func (s *Store) SetNodeCapacity(ctx context.Context, id string, capacity *int) (bool, error) {
	id, err := lookupID("node", id)
	if err != nil {
		return false, err
	}
	var changed bool
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE nodes SET capacity = ?2 WHERE id = ?1 AND capacity IS NOT ?2`, id, capacity)
		if err != nil {
			return fmt.Errorf("set node capacity: %w", err)
		}
		n, err := res.RowsAffected()
		changed = n == 1
		return err
	})
	return changed, err
}

// MarkNodesOffline sets online nodes last seen before a time offline.
func (s *Store) MarkNodesOffline(ctx context.Context, seenBefore time.Time) ([]string, error) {
	var ids []string
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		ids, err = collect(query(tx.QueryContext(ctx, `UPDATE nodes SET status = 'offline'
			WHERE status = 'online' AND (last_seen_at IS NULL OR last_seen_at < ?) RETURNING id`, fmtTime(seenBefore))), scanString)
		if err != nil {
			return fmt.Errorf("mark nodes offline: %w", err)
		}
		return nil
	})
	return ids, err
}

// DeleteStaleNodes removes abandoned registrations and long-dead nodes.
func (s *Store) DeleteStaleNodes(ctx context.Context, unclaimedBefore, offlineBefore time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM nodes
			WHERE (user_id IS NULL AND status = 'pending' AND created_at < ?)
			   OR (status = 'offline' AND coalesce(last_seen_at, created_at) < ?)`, fmtTime(unclaimedBefore), fmtTime(offlineBefore))
		if err != nil {
			return fmt.Errorf("delete stale nodes: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
