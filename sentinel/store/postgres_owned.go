package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// UpdateNode applies an owner's change to a node.
func (p *Postgres) UpdateNode(ctx context.Context, c NodeChange) (Node, error) {
	if err := checkIDs("node", c.NodeID, c.UserID); err != nil {
		return Node{}, err
	}
	n, err := scanNode(p.pool.QueryRow(ctx, `UPDATE nodes SET name = coalesce($3, name), max_parallel = coalesce($4, max_parallel)
		WHERE id = $1 AND user_id = $2 RETURNING `+nodeCols, c.NodeID, c.UserID, c.Name, c.MaxParallel))
	return n, notFound(err, "node "+c.NodeID)
}

// DeleteNode removes a node of userID, its running chunks back to pending.
func (p *Postgres) DeleteNode(ctx context.Context, nodeID, userID string) error {
	if err := checkIDs("node", nodeID, userID); err != nil {
		return err
	}
	return p.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE jobs_chunks c SET status = 'pending', node_id = NULL, claimed_at = NULL,
				previous_node_ids = array_append(c.previous_node_ids, c.node_id)
			WHERE node_id = $1 AND status = 'running' AND EXISTS (SELECT 1 FROM nodes WHERE id = $1 AND user_id = $2)`,
			nodeID, userID); err != nil {
			return fmt.Errorf("hand back the node's chunks: %w", err)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM nodes WHERE id = $1 AND user_id = $2`, nodeID, userID)
		if err != nil {
			return fmt.Errorf("delete node: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("node %s: %w", nodeID, ErrNotFound)
		}
		return nil
	})
}

// CancelJob fails a job of c.UserID and its unfinished chunks.
func (p *Postgres) CancelJob(ctx context.Context, c Cancel) (bool, error) {
	if err := checkIDs("job", c.JobID, c.UserID); err != nil {
		return false, err
	}
	var ended bool
	err := p.tx(ctx, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM jobs WHERE id = $1 AND user_id = $2 FOR UPDATE`, c.JobID, c.UserID).Scan(&status)
		if err != nil {
			return notFound(err, "job "+c.JobID)
		}
		if status != "pending" && status != "running" {
			return nil
		}
		ended = true
		if _, err := tx.Exec(ctx, `UPDATE jobs SET status = 'failed', error = $2, completed_at = $3 WHERE id = $1`,
			c.JobID, c.Error, c.Now); err != nil {
			return fmt.Errorf("cancel job: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE jobs_chunks SET status = 'failed', last_error = $2, completed_at = $3
			WHERE job_id = $1 AND status IN ('pending', 'running')`, c.JobID, c.Error, c.Now); err != nil {
			return fmt.Errorf("cancel job's chunks: %w", err)
		}
		return nil
	})
	return ended, err
}

// CreateRotation stores a rotation.
func (p *Postgres) CreateRotation(ctx context.Context, r Rotation) error {
	_, err := p.pool.Exec(ctx, `INSERT INTO rotations (id, user_id, slug, name, script, description, is_public, spec_id, created_at, updated_at)
		VALUES ($1, nullif($2, '')::uuid, $3, $4, $5, nullif($6, ''), $7, nullif($8, 0), $9, $10)`,
		r.ID, r.UserID, r.Slug, r.Name, r.Script, r.Description, r.IsPublic, r.SpecID, r.CreatedAt, r.UpdatedAt)
	if err != nil {
		return fmt.Errorf("create rotation: %w", err)
	}
	return nil
}

// UpdateRotation applies an owner's change to a rotation.
func (p *Postgres) UpdateRotation(ctx context.Context, c RotationChange) error {
	if err := checkIDs("rotation", c.ID, c.UserID); err != nil {
		return err
	}
	tag, err := p.pool.Exec(ctx, `UPDATE rotations SET slug = coalesce($3, slug), name = coalesce($4, name),
			current_version = current_version + CASE WHEN $5::text IS NOT NULL AND $5::text <> script THEN 1 ELSE 0 END,
			script = coalesce($5, script), description = CASE WHEN $6::text IS NULL THEN description ELSE nullif($6, '') END,
			is_public = coalesce($7, is_public), updated_at = $8
		WHERE id = $1 AND user_id = $2`, c.ID, c.UserID, c.Slug, c.Name, c.Script, c.Description, c.IsPublic, c.Now)
	if err != nil {
		return fmt.Errorf("update rotation: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("rotation %s: %w", c.ID, ErrNotFound)
	}
	return nil
}

// DeleteRotation removes a rotation of userID.
func (p *Postgres) DeleteRotation(ctx context.Context, id, userID string) error {
	if err := checkIDs("rotation", id, userID); err != nil {
		return err
	}
	tag, err := p.pool.Exec(ctx, `DELETE FROM rotations WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return fmt.Errorf("delete rotation: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("rotation %s: %w", id, ErrNotFound)
	}
	return nil
}

// OnlineNodes returns the claimed online nodes with owner and grants.
func (p *Postgres) OnlineNodes(ctx context.Context) ([]NodeLoad, error) {
	rows, err := p.pool.Query(ctx, `SELECT n.id::text, n.user_id::text,
			coalesce((SELECT array_agg(p.target_id) FROM nodes_permissions p
				WHERE p.node_id = n.id AND p.access_type = 'user'), '{}')
		FROM nodes n WHERE n.status = 'online' AND n.user_id IS NOT NULL ORDER BY n.id`)
	if err != nil {
		return nil, fmt.Errorf("read online nodes: %w", err)
	}
	nodes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (NodeLoad, error) {
		var n NodeLoad
		err := r.Scan(&n.ID, &n.UserID, &n.GrantedTo)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("read online nodes: %w", err)
	}
	return nodes, nil
}
