package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"wowlab/sentinel/store"
)

// UpdateNode applies an owner's change to a node.
func (s *Store) UpdateNode(ctx context.Context, c store.NodeChange) (store.Node, error) {
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
		n, err = scanNode(tx.QueryRowContext(ctx, `UPDATE nodes SET name = coalesce(?3, name), max_parallel = coalesce(?4, max_parallel)
			WHERE id = ?1 AND user_id = ?2 RETURNING `+nodeCols, nodeID, userID, c.Name, c.MaxParallel))
		return notFound(err, "node "+nodeID)
	})
	return n, err
}

// DeleteNode removes a node of userID, its running chunks back to pending.
func (s *Store) DeleteNode(ctx context.Context, nodeID, userID string) error {
	nodeID, err := lookupID("node", nodeID)
	if err != nil {
		return err
	}
	userID, err = lookupID("user", userID)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE jobs_chunks SET status = 'pending', node_id = NULL, claimed_at = NULL,
				previous_node_ids = json_insert(previous_node_ids, '$[#]', node_id)
			WHERE node_id = ?1 AND status = 'running' AND EXISTS (SELECT 1 FROM nodes WHERE id = ?1 AND user_id = ?2)`,
			nodeID, userID); err != nil {
			return fmt.Errorf("hand back the node's chunks: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM nodes WHERE id = ? AND user_id = ?`, nodeID, userID)
		if err != nil {
			return fmt.Errorf("delete node: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(fmt.Errorf("node %s: %w", nodeID, store.ErrNotFound), err)
		}
		return nil
	})
}

// CancelJob fails a job of c.UserID and its unfinished chunks.
func (s *Store) CancelJob(ctx context.Context, c store.Cancel) (bool, error) {
	jobID, err := lookupID("job", c.JobID)
	if err != nil {
		return false, err
	}
	userID, err := lookupID("user", c.UserID)
	if err != nil {
		return false, err
	}
	at := fmtTime(c.Now)
	var ended bool
	err = s.write(ctx, func(tx *sql.Tx) error {
		var status string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM jobs WHERE id = ? AND user_id = ?`, jobID, userID).Scan(&status); err != nil {
			return notFound(err, "job "+jobID)
		}
		if status != "pending" && status != "running" {
			return nil
		}
		ended = true
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET status = 'failed', error = ?2, completed_at = ?3 WHERE id = ?1`,
			jobID, c.Error, at); err != nil {
			return fmt.Errorf("cancel job: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jobs_chunks SET status = 'failed', last_error = ?2, completed_at = ?3
			WHERE job_id = ?1 AND status IN ('pending', 'running')`, jobID, c.Error, at); err != nil {
			return fmt.Errorf("cancel job's chunks: %w", err)
		}
		return nil
	})
	return ended, err
}

// CreateRotation stores a rotation.
func (s *Store) CreateRotation(ctx context.Context, r store.Rotation) error {
	id, err := newID("rotation", r.ID)
	if err != nil {
		return err
	}
	var owner any
	if r.UserID != "" {
		u, err := newID("user", r.UserID)
		if err != nil {
			return err
		}
		owner = u
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO rotations (id, user_id, slug, name, script, description, is_public, spec_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, nullif(?, 0), ?, ?)`,
			id, owner, r.Slug, r.Name, r.Script, nullString(r.Description), r.IsPublic, r.SpecID,
			fmtTime(r.CreatedAt), fmtTime(r.UpdatedAt))
		if err != nil {
			return fmt.Errorf("create rotation: %w", err)
		}
		return nil
	})
}

// UpdateRotation applies an owner's change to a rotation.
func (s *Store) UpdateRotation(ctx context.Context, c store.RotationChange) error {
	id, err := lookupID("rotation", c.ID)
	if err != nil {
		return err
	}
	userID, err := lookupID("user", c.UserID)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE rotations SET slug = coalesce(?3, slug), name = coalesce(?4, name),
				current_version = current_version + CASE WHEN ?5 IS NOT NULL AND ?5 <> script THEN 1 ELSE 0 END,
				script = coalesce(?5, script), description = CASE WHEN ?6 IS NULL THEN description ELSE nullif(?6, '') END,
				is_public = coalesce(?7, is_public), updated_at = ?8
			WHERE id = ?1 AND user_id = ?2`, id, userID, c.Slug, c.Name, c.Script, c.Description, c.IsPublic, fmtTime(c.Now))
		if err != nil {
			return fmt.Errorf("update rotation: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(fmt.Errorf("rotation %s: %w", id, store.ErrNotFound), err)
		}
		return nil
	})
}

// DeleteRotation removes a rotation of userID.
func (s *Store) DeleteRotation(ctx context.Context, id, userID string) error {
	id, err := lookupID("rotation", id)
	if err != nil {
		return err
	}
	userID, err = lookupID("user", userID)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM rotations WHERE id = ? AND user_id = ?`, id, userID)
		if err != nil {
			return fmt.Errorf("delete rotation: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(fmt.Errorf("rotation %s: %w", id, store.ErrNotFound), err)
		}
		return nil
	})
}

// OnlineNodes returns the claimed online nodes with owner and grants.
func (s *Store) OnlineNodes(ctx context.Context) ([]store.NodeLoad, error) {
	nodes, err := collect(query(s.reader.QueryContext(ctx, `SELECT n.id, n.user_id,
			(SELECT json_group_array(p.target_id) FROM nodes_permissions p WHERE p.node_id = n.id AND p.access_type = 'user')
		FROM nodes n WHERE n.status = 'online' AND n.user_id IS NOT NULL ORDER BY n.id`)), func(r *sql.Rows) (store.NodeLoad, error) {
		var n store.NodeLoad
		err := r.Scan(&n.ID, &n.UserID, idsCol{&n.GrantedTo})
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("read online nodes: %w", err)
	}
	return nodes, nil
}
