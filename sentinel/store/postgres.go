package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"wowlab/protocol"
)

// Postgres is the Store on PostgreSQL. Run Listen in a goroutine to receive
// notifications from every instance sharing the database.
type Postgres struct {
	pool     *pgxpool.Pool
	connConf *pgx.ConnConfig // for the dedicated listening connection
	log      *slog.Logger
	feed     Feed
}

var _ Store = (*Postgres)(nil)

// DefaultMaxConns is the size of the connection pool when connString does
// not set pool_max_conns. Requests wait on the database's round trips far
// more than on its CPU, so the pool is much larger than the machine's
// cores (pgx's default, which left PostgreSQL mostly idle while requests
// queued for one of 4 connections); four instances and their listening
// connections still fit in PostgreSQL's default max_connections of 100.
const DefaultMaxConns = 20

// Open connects to the database at connString. It does not check the
// schema; call CheckSchema or Migrate. The pool holds up to
// DefaultMaxConns connections unless connString sets pool_max_conns.
func Open(ctx context.Context, connString string, log *slog.Logger) (*Postgres, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	// Timestamps leave the database as JSON (Select, ReadRows) in the
	// session's time zone: UTC makes them the same on every server and on
	// every store.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	if !strings.Contains(connString, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	connConf, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	connConf.RuntimeParams["application_name"] = ListenApplicationName
	// The pool's own settings (pool_max_conns, ...) are no server
	// parameters: the listening connection must not send them.
	for k := range connConf.RuntimeParams {
		if strings.HasPrefix(k, "pool_") {
			delete(connConf.RuntimeParams, k)
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &Postgres{pool: pool, connConf: connConf, log: log}, nil
}

// Close closes the connection pool.
func (p *Postgres) Close() { p.pool.Close() }

// Ping checks that the database answers.
func (p *Postgres) Ping(ctx context.Context) error {
	if err := p.pool.Ping(ctx); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "3D000" { // invalid_catalog_name
			name := p.pool.Config().ConnConfig.Database
			return fmt.Errorf("database %s does not exist: create it with createdb %s (as a PostgreSQL user who may), then run 'sentinel migrate'", name, name)
		}
		return fmt.Errorf("database unreachable: %w", err)
	}
	return nil
}

// Subscribe returns a subscription to this instance's notifications.
func (p *Postgres) Subscribe(buffer int) *Subscription { return p.feed.Subscribe(buffer) }

// tx runs fn in a transaction, retrying it when PostgreSQL aborted it to
// break a deadlock or a serialisation conflict.
func (p *Postgres) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = pgx.BeginFunc(ctx, p.pool, fn)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001") {
			p.log.Debug("retrying transaction", "code", pgErr.Code)
			continue
		}
		return err
	}
	return err
}

func timeOf(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time
}

func nullTime(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

func notFound(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// checkIDs returns ErrNotFound when any id is not a UUID: no row can have
// it, and PostgreSQL would refuse the query.
func checkIDs(what string, ids ...string) error {
	for _, id := range ids {
		if _, err := uuid.Parse(id); err != nil {
			return fmt.Errorf("%s %q: %w", what, id, ErrNotFound)
		}
	}
	return nil
}

// ---- users ----

// CreateUser stores a new user.
func (p *Postgres) CreateUser(ctx context.Context, u User) error {
	_, err := p.pool.Exec(ctx, "INSERT INTO users (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)",
		u.ID, u.Name, u.TokenHash, u.CreatedAt)
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

const userCols = "id::text, name, token_hash, created_at"

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Name, &u.TokenHash, &u.CreatedAt)
	return u, err
}

// UserByID returns a user or ErrNotFound.
func (p *Postgres) UserByID(ctx context.Context, id string) (User, error) {
	if err := checkIDs("user", id); err != nil {
		return User{}, err
	}
	u, err := scanUser(p.pool.QueryRow(ctx, "SELECT "+userCols+" FROM users WHERE id = $1", id))
	return u, notFound(err, "user "+id)
}

// UserByTokenHash returns the user owning a token or ErrNotFound.
func (p *Postgres) UserByTokenHash(ctx context.Context, hash string) (User, error) {
	u, err := scanUser(p.pool.QueryRow(ctx, "SELECT "+userCols+" FROM users WHERE token_hash = $1", hash))
	if err != nil {
		return u, notFound(err, "user by token")
	}
	return u, nil
}

// ---- nodes ----

const nodeCols = `id::text, coalesce(user_id::text, ''), name, max_parallel, status, last_seen_at, version,
	total_cores, platform, created_at, public_key, coalesce(claim_code, '')`

// nodeFullJoin adds the node's capacity and sized-chunk offer to a read of
// nodeCols (scanNodeFull reads them).
const nodeFullJoin = `, nodes.capacity, coalesce(o.chunk_max, 0), coalesce(o.throughput, 0)
	FROM nodes LEFT JOIN nodes_chunk_offers o ON o.node_id = nodes.id`

func scanNodeFull(row pgx.Row) (Node, error) {
	var n Node
	var seen pgtype.Timestamptz
	err := row.Scan(&n.ID, &n.UserID, &n.Name, &n.MaxParallel, &n.Status, &seen, &n.Version,
		&n.TotalCores, &n.Platform, &n.CreatedAt, &n.PublicKey, &n.ClaimCode, &n.Capacity, &n.ChunkMax, &n.Throughput)
	n.LastSeenAt = timeOf(seen)
	return n, err
}

func scanNode(row pgx.Row) (Node, error) {
	var n Node
	var seen pgtype.Timestamptz
	err := row.Scan(&n.ID, &n.UserID, &n.Name, &n.MaxParallel, &n.Status, &seen, &n.Version,
		&n.TotalCores, &n.Platform, &n.CreatedAt, &n.PublicKey, &n.ClaimCode)
	n.LastSeenAt = timeOf(seen)
	return n, err
}

// RegisterNode returns the node with n.PublicKey, inserting it when new.
func (p *Postgres) RegisterNode(ctx context.Context, n NewNode, u NodeUpdate) (Node, bool, error) {
	node, err := scanNode(p.pool.QueryRow(ctx, `INSERT INTO nodes (public_key, claim_code, version, platform, total_cores, status, created_at)
		VALUES ($1, $2, $3, $4, $5, 'pending', $6)
		ON CONFLICT (public_key) DO NOTHING RETURNING `+nodeCols,
		n.PublicKey, n.ClaimCode, n.Version, n.Platform, n.TotalCores, n.Now))
	if err == nil {
		return node, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Node{}, false, fmt.Errorf("register node: %w", err)
	}
	node, err = scanNode(p.pool.QueryRow(ctx, `UPDATE nodes SET version = $2, platform = $3, total_cores = $4,
			created_at = CASE WHEN user_id IS NULL THEN coalesce($5, created_at) ELSE created_at END
		WHERE public_key = $1 RETURNING `+nodeCols, n.PublicKey, u.Version, u.Platform, u.TotalCores, nullTime(u.Renew)))
	if err != nil {
		return Node{}, false, notFound(err, "register node")
	}
	return node, false, nil
}

// NodeByID returns a node or ErrNotFound.
func (p *Postgres) NodeByID(ctx context.Context, id string) (Node, error) {
	if err := checkIDs("node", id); err != nil {
		return Node{}, err
	}
	n, err := scanNodeFull(p.pool.QueryRow(ctx, "SELECT "+nodeCols+nodeFullJoin+" WHERE id = $1", id))
	return n, notFound(err, "node "+id)
}

// NodeByPublicKey returns a node or ErrNotFound.
func (p *Postgres) NodeByPublicKey(ctx context.Context, key string) (Node, error) {
	n, err := scanNodeFull(p.pool.QueryRow(ctx, "SELECT "+nodeCols+nodeFullJoin+" WHERE public_key = $1", key))
	if err != nil {
		return n, notFound(err, "node by key")
	}
	return n, nil
}

// NodeByClaimCode returns the unclaimed node with a claim code or ErrNotFound.
func (p *Postgres) NodeByClaimCode(ctx context.Context, code string) (Node, error) {
	n, err := scanNode(p.pool.QueryRow(ctx, `SELECT `+nodeCols+` FROM nodes
		WHERE claim_code = $1 AND user_id IS NULL ORDER BY created_at DESC LIMIT 1`, code))
	if err != nil {
		return n, notFound(err, "node by claim code")
	}
	return n, nil
}

// ClaimNode gives an unclaimed node to a user.
func (p *Postgres) ClaimNode(ctx context.Context, c Claim) (Node, error) {
	if err := checkIDs("node", c.NodeID); err != nil {
		return Node{}, err
	}
	if err := checkIDs("user", c.UserID); err != nil {
		return Node{}, err
	}
	n, err := scanNode(p.pool.QueryRow(ctx, `WITH claimed AS (
			UPDATE nodes SET user_id = $2, claim_code = NULL,
				name = coalesce($3, name), max_parallel = coalesce($4, max_parallel)
			WHERE id = $1 AND user_id IS NULL RETURNING *),
		checks AS (DELETE FROM claim_checks WHERE node_id IN (SELECT id FROM claimed))
		SELECT `+nodeCols+` FROM claimed`, c.NodeID, c.UserID, c.Name, c.MaxParallel))
	if err == nil {
		return n, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Node{}, fmt.Errorf("claim node: %w", err)
	}
	if _, err := p.NodeByID(ctx, c.NodeID); err != nil {
		return Node{}, err
	}
	return Node{}, fmt.Errorf("node %s is already claimed: %w", c.NodeID, ErrConflict)
}

// RecordClaimCheck stores or extends a user's claim check of a node.
func (p *Postgres) RecordClaimCheck(ctx context.Context, c ClaimCheck) error {
	if err := checkIDs("node", c.NodeID); err != nil {
		return err
	}
	if err := checkIDs("user", c.UserID); err != nil {
		return err
	}
	_, err := p.pool.Exec(ctx, `INSERT INTO claim_checks (node_id, user_id, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (node_id, user_id) DO UPDATE SET expires_at = greatest(claim_checks.expires_at, EXCLUDED.expires_at)`,
		c.NodeID, c.UserID, c.Expires)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" { // the node or user is gone
		return fmt.Errorf("record claim check: %w", ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("record claim check: %w", err)
	}
	return nil
}

// ClaimCheckExpiry returns when a user's claim check of a node expires.
func (p *Postgres) ClaimCheckExpiry(ctx context.Context, nodeID, userID string) (time.Time, error) {
	if err := checkIDs("claim check", nodeID, userID); err != nil {
		return time.Time{}, err
	}
	var exp time.Time
	err := p.pool.QueryRow(ctx, "SELECT expires_at FROM claim_checks WHERE node_id = $1 AND user_id = $2", nodeID, userID).Scan(&exp)
	return exp, notFound(err, "claim check")
}

// ListNodes returns every node, newest first.
func (p *Postgres) ListNodes(ctx context.Context) ([]Node, error) {
	rows, err := p.pool.Query(ctx, "SELECT "+nodeCols+" FROM nodes ORDER BY created_at DESC, id")
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	ns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Node, error) { return scanNode(r) })
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return ns, nil
}

// GrantNode lets another user's jobs use a node.
func (p *Postgres) GrantNode(ctx context.Context, nodeID, accessType, targetID string) error {
	_, err := p.pool.Exec(ctx, `INSERT INTO nodes_permissions (node_id, access_type, target_id)
		VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, nodeID, accessType, targetID)
	if err != nil {
		return fmt.Errorf("grant node: %w", err)
	}
	return nil
}

// TouchNodes records that claimed nodes are alive and online.
func (p *Postgres) TouchNodes(ctx context.Context, ids []string, now time.Time) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if err := checkIDs("node", ids...); err != nil {
		return nil, err
	}
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted) // a fixed lock order keeps concurrent touches from deadlocking
	rows, err := p.pool.Query(ctx, `WITH target AS (
			SELECT id, status AS old_status FROM nodes
			WHERE id = ANY($1::uuid[]) AND user_id IS NOT NULL ORDER BY id FOR NO KEY UPDATE)
		UPDATE nodes n SET last_seen_at = greatest(n.last_seen_at, $2), status = 'online'
		FROM target t WHERE n.id = t.id RETURNING n.id::text, t.old_status`, sorted, now)
	if err != nil {
		return nil, fmt.Errorf("touch nodes: %w", err)
	}
	var came []string
	for rows.Next() {
		var id, old string
		if err := rows.Scan(&id, &old); err != nil {
			return nil, fmt.Errorf("touch nodes: %w", err)
		}
		if old != protocol.NodeOnline {
			came = append(came, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("touch nodes: %w", err)
	}
	return came, nil
}

func collectIDs(rows pgx.Rows, what string) ([]string, error) {
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return ids, nil
}

// SetNodeCapacity records the capacity of a node's heartbeat.
func (p *Postgres) SetNodeCapacity(ctx context.Context, id string, capacity *int) (bool, error) {
	if !isUUID(id) {
		return false, ErrNotFound
	}
	tag, err := p.pool.Exec(ctx, `UPDATE nodes SET capacity = $2 WHERE id = $1 AND capacity IS DISTINCT FROM $2`, id, capacity)
	if err != nil {
		return false, fmt.Errorf("set node capacity: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// SetNodeChunks records a node's sized-chunk offer.
func (p *Postgres) SetNodeChunks(ctx context.Context, id string, chunkMax int, throughput float64) error {
	if err := checkIDs("node", id); err != nil {
		return err
	}
	var err error
	if chunkMax == 0 {
		_, err = p.pool.Exec(ctx, "DELETE FROM nodes_chunk_offers WHERE node_id = $1", id)
	} else {
		_, err = p.pool.Exec(ctx, `INSERT INTO nodes_chunk_offers (node_id, chunk_max, throughput) VALUES ($1, $2, $3)
			ON CONFLICT (node_id) DO UPDATE SET chunk_max = EXCLUDED.chunk_max, throughput = EXCLUDED.throughput`, id, chunkMax, throughput)
	}
	if err != nil {
		return fmt.Errorf("set node chunks: %w", err)
	}
	return nil
}

// MarkNodeOffline sets one online node offline.
func (p *Postgres) MarkNodeOffline(ctx context.Context, id string) (bool, error) {
	if !isUUID(id) {
		return false, ErrNotFound
	}
	tag, err := p.pool.Exec(ctx, `UPDATE nodes SET status = 'offline' WHERE id = $1 AND status = 'online'`, id)
	if err != nil {
		return false, fmt.Errorf("mark node offline: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// MarkNodesOffline sets online nodes last seen before a time offline.
func (p *Postgres) MarkNodesOffline(ctx context.Context, seenBefore time.Time) ([]string, error) {
	rows, err := p.pool.Query(ctx, `UPDATE nodes SET status = 'offline'
		WHERE status = 'online' AND (last_seen_at IS NULL OR last_seen_at < $1) RETURNING id::text`, seenBefore)
	if err != nil {
		return nil, fmt.Errorf("mark nodes offline: %w", err)
	}
	return collectIDs(rows, "mark nodes offline")
}

// DeleteStaleNodes removes abandoned registrations and long-dead nodes.
func (p *Postgres) DeleteStaleNodes(ctx context.Context, unclaimedBefore, offlineBefore time.Time) (int, error) {
	tag, err := p.pool.Exec(ctx, `DELETE FROM nodes
		WHERE (user_id IS NULL AND status = 'pending' AND created_at < $1)
		   OR (status = 'offline' AND coalesce(last_seen_at, created_at) < $2)`, unclaimedBefore, offlineBefore)
	if err != nil {
		return 0, fmt.Errorf("delete stale nodes: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// ---- jobs ----

const jobCols = `id::text, user_id::text, config_hash, total_iterations, completed_iterations, status, result,
	created_at, completed_at, access_type, coalesce(discord_server_id, ''), coalesce(error, '')`

func scanJob(row pgx.Row) (Job, error) {
	var j Job
	var done pgtype.Timestamptz
	var result []byte
	err := row.Scan(&j.ID, &j.UserID, &j.ConfigHash, &j.TotalIterations, &j.CompletedIterations, &j.Status, &result,
		&j.CreatedAt, &done, &j.AccessType, &j.DiscordServerID, &j.Error)
	j.CompletedAt, j.Result = timeOf(done), result
	return j, err
}

// CreateJob stores a job, its first chunks, the unassigned rest of its
// range and its config in one transaction.
func (p *Postgres) CreateJob(ctx context.Context, nj NewJob) error {
	rest, err := UnassignedStart(nj)
	if err != nil {
		return err
	}
	return p.tx(ctx, func(tx pgx.Tx) error {
		if nj.Config != nil {
			if _, err := tx.Exec(ctx, `INSERT INTO jobs_configs (hash, config, created_at, last_used_at) VALUES ($1, $2, $3, $3)
				ON CONFLICT (hash) DO UPDATE SET last_used_at = greatest(jobs_configs.last_used_at, EXCLUDED.last_used_at)`,
				nj.Job.ConfigHash, string(nj.Config), nj.Now); err != nil {
				return fmt.Errorf("store config: %w", err)
			}
		} else {
			tag, err := tx.Exec(ctx, "UPDATE jobs_configs SET last_used_at = greatest(last_used_at, $2) WHERE hash = $1", nj.Job.ConfigHash, nj.Now)
			if err != nil {
				return fmt.Errorf("touch config: %w", err)
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("config %s: %w", nj.Job.ConfigHash, ErrNotFound)
			}
		}
		j := nj.Job
		if _, err := tx.Exec(ctx, `INSERT INTO jobs (id, user_id, config_hash, total_iterations, status, created_at, access_type, discord_server_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, nullif($8, ''))`,
			j.ID, j.UserID, j.ConfigHash, j.TotalIterations, j.Status, nj.Now, j.AccessType, j.DiscordServerID); err != nil {
			return fmt.Errorf("insert job: %w", err)
		}
		if len(nj.Chunks) > 0 {
			rows := make([][]any, len(nj.Chunks))
			for i, c := range nj.Chunks {
				rows[i] = []any{c.ID, j.ID, j.ConfigHash, c.Iterations, c.SeedOffset, protocol.StatusPending, nj.Now}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"jobs_chunks"},
				[]string{"id", "job_id", "config_hash", "iterations", "seed_offset", "status", "created_at"},
				pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("insert chunks: %w", err)
			}
		}
		if rest < j.TotalIterations {
			if _, err := tx.Exec(ctx, "INSERT INTO jobs_unassigned (job_id, next_offset, total) VALUES ($1, $2, $3)",
				j.ID, rest, j.TotalIterations); err != nil {
				return fmt.Errorf("insert unassigned range: %w", err)
			}
		}
		return nil
	})
}

// JobByID returns a job or ErrNotFound.
func (p *Postgres) JobByID(ctx context.Context, id string) (Job, error) {
	if err := checkIDs("job", id); err != nil {
		return Job{}, err
	}
	j, err := scanJob(p.pool.QueryRow(ctx, "SELECT "+jobCols+" FROM jobs WHERE id = $1", id))
	return j, notFound(err, "job "+id)
}

// ReadRows returns rows of nodes, jobs or jobs_chunks as JSON objects, by
// id, in one query.
func (p *Postgres) ReadRows(ctx context.Context, table string, ids []string) (map[string]json.RawMessage, error) {
	if !Readable(table) {
		return nil, fmt.Errorf("read rows: table %q is not readable", table)
	}
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if checkIDs(table, id) == nil {
			valid = append(valid, id)
		}
	}
	rows, err := p.pool.Query(ctx, "SELECT id::text, to_jsonb(t) FROM "+table+" t WHERE id = ANY($1::uuid[])", valid)
	if err != nil {
		return nil, fmt.Errorf("read rows: %w", err)
	}
	defer rows.Close()
	out := make(map[string]json.RawMessage, len(valid))
	for rows.Next() {
		var id string
		var row []byte
		if err := rows.Scan(&id, &row); err != nil {
			return nil, fmt.Errorf("read rows: %w", err)
		}
		out[id] = row
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rows: %w", err)
	}
	return out, nil
}

// DeleteUnusedConfigs removes configs no job references, unused since a time.
func (p *Postgres) DeleteUnusedConfigs(ctx context.Context, lastUsedBefore time.Time) (int, error) {
	tag, err := p.pool.Exec(ctx, `DELETE FROM jobs_configs c WHERE c.last_used_at < $1
		AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.config_hash = c.hash)`, lastUsedBefore)
	if err != nil {
		return 0, fmt.Errorf("delete unused configs: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// ---- chunks ----

const chunkCols = `id::text, job_id::text, coalesce(node_id::text, ''), config_hash, iterations, seed_offset, status,
	result, claimed_at, completed_at, created_at, attempts, coalesce(last_error, ''), previous_node_ids::text[]`

func scanChunk(row pgx.Row) (Chunk, error) {
	var c Chunk
	var claimed, done pgtype.Timestamptz
	var result []byte
	err := row.Scan(&c.ID, &c.JobID, &c.NodeID, &c.ConfigHash, &c.Iterations, &c.SeedOffset, &c.Status,
		&result, &claimed, &done, &c.CreatedAt, &c.Attempts, &c.LastError, &c.PreviousNodeIDs)
	c.ClaimedAt, c.CompletedAt, c.Result = timeOf(claimed), timeOf(done), result
	return c, err
}

// ChunkByID returns a chunk or ErrNotFound.
func (p *Postgres) ChunkByID(ctx context.Context, id string) (Chunk, error) {
	if err := checkIDs("chunk", id); err != nil {
		return Chunk{}, err
	}
	c, err := scanChunk(p.pool.QueryRow(ctx, "SELECT "+chunkCols+" FROM jobs_chunks WHERE id = $1", id))
	return c, notFound(err, "chunk "+id)
}

// AssignPending locks pending work and online nodes, plans and applies.
func (p *Postgres) AssignPending(ctx context.Context, limit int, now time.Time, plan Planner) ([]Assignment, error) {
	var applied []Assignment
	err := p.tx(ctx, func(tx pgx.Tx) error {
		applied = nil
		rows, err := tx.Query(ctx, `SELECT c.id::text, c.job_id::text, j.user_id::text, j.access_type, c.created_at, c.iterations,
				cardinality(c.previous_node_ids) > 0
			FROM jobs_chunks c JOIN jobs j ON j.id = c.job_id
			WHERE c.status = 'pending' AND c.node_id IS NULL AND j.status IN ('pending', 'running')
			ORDER BY c.created_at, c.seed_offset, c.id
			LIMIT $1 FOR UPDATE OF c SKIP LOCKED`, limit)
		if err != nil {
			return fmt.Errorf("lock pending chunks: %w", err)
		}
		work, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PendingChunk, error) {
			var c PendingChunk
			err := r.Scan(&c.ID, &c.JobID, &c.JobOwner, &c.AccessType, &c.CreatedAt, &c.Iterations, &c.Held)
			return c, err
		})
		if err != nil {
			return fmt.Errorf("lock pending chunks: %w", err)
		}
		rows, err = tx.Query(ctx, `SELECT u.job_id::text, j.user_id::text, j.access_type, j.created_at, u.total - u.next_offset,
				u.next_offset, j.config_hash
			FROM jobs_unassigned u JOIN jobs j ON j.id = u.job_id
			WHERE j.status IN ('pending', 'running')
			ORDER BY j.created_at, u.job_id
			LIMIT $1 FOR UPDATE OF u SKIP LOCKED`, limit)
		if err != nil {
			return fmt.Errorf("lock unassigned ranges: %w", err)
		}
		rests := map[string]*Carve{}
		tails, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PendingChunk, error) {
			var c PendingChunk
			var cv Carve
			err := r.Scan(&c.JobID, &c.JobOwner, &c.AccessType, &c.CreatedAt, &c.Iterations, &cv.Next, &cv.ConfigHash)
			cv.End = cv.Next + c.Iterations
			rests[c.JobID] = &cv
			return c, err
		})
		if err != nil {
			return fmt.Errorf("lock unassigned ranges: %w", err)
		}
		work = append(work, tails...)
		if len(work) == 0 {
			return nil
		}
		// Lock the nodes first (in id order), then count their running
		// chunks in a new statement, which sees every assignment committed
		// by an instance that held these locks before us.
		if _, err := tx.Exec(ctx, `SELECT id FROM nodes WHERE status = 'online' AND user_id IS NOT NULL
			ORDER BY id FOR NO KEY UPDATE`); err != nil {
			return fmt.Errorf("lock nodes: %w", err)
		}
		rows, err = tx.Query(ctx, `SELECT n.id::text, n.user_id::text, n.max_parallel, n.total_cores, n.capacity,
				coalesce((SELECT o.chunk_max FROM nodes_chunk_offers o WHERE o.node_id = n.id), 0),
				coalesce((SELECT o.throughput FROM nodes_chunk_offers o WHERE o.node_id = n.id), 0),
				h.running, h.held, h.last_claimed, coalesce(h.last_iterations, 0),
				coalesce((SELECT array_agg(p.target_id) FROM nodes_permissions p
					WHERE p.node_id = n.id AND p.access_type = 'user'), '{}')
			FROM nodes n, LATERAL (SELECT count(*)::int AS running, coalesce(sum(c.iterations), 0)::bigint AS held,
					max(c.claimed_at) AS last_claimed,
					(array_agg(c.iterations ORDER BY c.claimed_at DESC, c.seed_offset DESC))[1] AS last_iterations
				FROM jobs_chunks c WHERE c.node_id = n.id AND c.status = 'running') h
			WHERE n.status = 'online' AND n.user_id IS NOT NULL ORDER BY n.id`)
		if err != nil {
			return fmt.Errorf("read node load: %w", err)
		}
		nodes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (NodeLoad, error) {
			var n NodeLoad
			var last *time.Time
			err := r.Scan(&n.ID, &n.UserID, &n.MaxParallel, &n.TotalCores, &n.Capacity, &n.ChunkMax, &n.Throughput,
				&n.Running, &n.Held, &last, &n.LastIterations, &n.GrantedTo)
			if last != nil {
				n.LastClaimed = *last
			}
			return n, err
		})
		if err != nil {
			return fmt.Errorf("read node load: %w", err)
		}
		if len(nodes) == 0 {
			return nil
		}
		want := plan(work, nodes)
		if len(want) == 0 {
			return nil
		}
		fromRows, carved := SplitPlan(work, nodes, want, rests)
		jobSet := map[string]bool{}
		if len(fromRows) > 0 {
			chunkIDs, nodeIDs, restIDs := make([]string, len(fromRows)), make([]string, len(fromRows)), make([]string, len(fromRows))
			counts := make([]int, len(fromRows))
			for i, a := range fromRows {
				chunkIDs[i], nodeIDs[i], counts[i], restIDs[i] = a.ChunkID, a.NodeID, a.Iterations, uuid.NewString()
			}
			// A row given in part leaves the rest of its range pending, as
			// a new row with the row's attempts (no node held the new row).
			if _, err := tx.Exec(ctx, `INSERT INTO jobs_chunks (id, job_id, config_hash, iterations, seed_offset, status, created_at,
					attempts, last_error)
				SELECT a.rest_id::uuid, c.job_id, c.config_hash, c.iterations - a.n, c.seed_offset + a.n, 'pending', c.created_at,
					c.attempts, c.last_error
				FROM jobs_chunks c JOIN unnest($1::text[], $2::int[], $3::text[]) AS a(chunk_id, n, rest_id) ON c.id = a.chunk_id::uuid
				WHERE c.status = 'pending' AND c.node_id IS NULL AND c.iterations > a.n`, chunkIDs, counts, restIDs); err != nil {
				return fmt.Errorf("split chunks: %w", err)
			}
			rows, err = tx.Query(ctx, `UPDATE jobs_chunks c SET node_id = a.node_id::uuid, status = 'running', claimed_at = $4,
					iterations = least(c.iterations, a.n)
				FROM unnest($1::text[], $2::text[], $3::int[]) AS a(chunk_id, node_id, n)
				WHERE c.id = a.chunk_id::uuid AND c.status = 'pending' AND c.node_id IS NULL
				RETURNING c.id::text, c.node_id::text, c.job_id::text, c.iterations`, chunkIDs, nodeIDs, counts, now)
			if err != nil {
				return fmt.Errorf("assign chunks: %w", err)
			}
			for rows.Next() {
				var a Assignment
				if err := rows.Scan(&a.ChunkID, &a.NodeID, &a.JobID, &a.Iterations); err != nil {
					return fmt.Errorf("assign chunks: %w", err)
				}
				applied = append(applied, a)
				jobSet[a.JobID] = true
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("assign chunks: %w", err)
			}
		}
		if len(carved) > 0 {
			n := len(carved)
			ids, jobs, nodeIDs, hashes := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			counts, offsets := make([]int, n), make([]int, n)
			for i, c := range carved {
				ids[i], jobs[i], nodeIDs[i], hashes[i], counts[i], offsets[i] = c.ChunkID, c.JobID, c.NodeID, c.ConfigHash, c.Iterations, c.SeedOffset
				applied = append(applied, c.Assignment)
				jobSet[c.JobID] = true
			}
			if _, err := tx.Exec(ctx, `INSERT INTO jobs_chunks (id, job_id, node_id, config_hash, iterations, seed_offset, status, claimed_at, created_at)
				SELECT a.id::uuid, a.job_id::uuid, a.node_id::uuid, a.hash, a.n, a.off, 'running', $7, $7
				FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[]) AS a(id, job_id, node_id, hash, n, off)`,
				ids, jobs, nodeIDs, hashes, counts, offsets, now); err != nil {
				return fmt.Errorf("carve chunks: %w", err)
			}
			var doneJobs, movedJobs []string
			var moved []int
			for job, cv := range rests {
				switch {
				case cv.Next == cv.End:
					doneJobs = append(doneJobs, job)
				case cv.Moved:
					movedJobs, moved = append(movedJobs, job), append(moved, cv.Next)
				}
			}
			if _, err := tx.Exec(ctx, "DELETE FROM jobs_unassigned WHERE job_id = ANY($1::uuid[])", doneJobs); err != nil {
				return fmt.Errorf("carve chunks: %w", err)
			}
			if _, err := tx.Exec(ctx, `UPDATE jobs_unassigned u SET next_offset = a.next
				FROM unnest($1::uuid[], $2::bigint[]) AS a(job_id, next) WHERE u.job_id = a.job_id`, movedJobs, moved); err != nil {
				return fmt.Errorf("carve chunks: %w", err)
			}
		}
		jobs := make([]string, 0, len(jobSet))
		for j := range jobSet {
			jobs = append(jobs, j)
		}
		if _, err := tx.Exec(ctx, `UPDATE jobs SET status = 'running' WHERE id IN (
			SELECT id FROM jobs WHERE id = ANY($1::uuid[]) AND status = 'pending' ORDER BY id FOR UPDATE)`, jobs); err != nil {
			return fmt.Errorf("start jobs: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return applied, nil
}

// CompleteChunks records results and completes jobs exactly once, all in
// one transaction: the chunk updates go in one round trip, then each job's
// count is raised once (its row lock, taken in id order, serialises the
// completions of a job across instances), and a job whose count reaches
// its total gets its result.
func (p *Postgres) CompleteChunks(ctx context.Context, cs []Completion, aggregate Aggregator) ([]CompletionOutcome, error) {
	ids, nodes := make([]string, len(cs)), make([]string, len(cs))
	results, nows := make([][]byte, len(cs)), make([]time.Time, len(cs))
	for i, c := range cs {
		if err := checkIDs("chunk", c.ChunkID, c.NodeID); err != nil {
			return nil, err
		}
		var err error
		if results[i], err = json.Marshal(c.Result); err != nil {
			return nil, fmt.Errorf("encode result: %w", err)
		}
		ids[i], nodes[i], nows[i] = c.ChunkID, c.NodeID, c.Now
	}
	outs := make([]CompletionOutcome, len(cs))
	err := p.tx(ctx, func(tx pgx.Tx) error {
		jobOf := make([]string, len(cs))
		added := map[string]int{}
		// One statement for the batch. A chunk twice in it (its holder and
		// an earlier one) is completed by the first: the later misses, as
		// if written after it.
		rows, err := tx.Query(ctx, `UPDATE jobs_chunks c SET status = 'completed', result = u.result, completed_at = u.at,
				node_id = u.node, claimed_at = coalesce(c.claimed_at, u.at),
				previous_node_ids = CASE WHEN c.node_id IS NOT NULL AND c.node_id <> u.node
					THEN array_append(c.previous_node_ids, c.node_id) ELSE c.previous_node_ids END
			FROM (SELECT DISTINCT ON (id) * FROM unnest($1::uuid[], $2::jsonb[], $3::timestamptz[], $4::uuid[])
				WITH ORDINALITY AS u(id, result, at, node, ord) ORDER BY id, ord) u
			WHERE c.id = u.id AND c.status IN ('pending', 'running')
			RETURNING u.ord, c.job_id::text, c.iterations`, ids, results, nows, nodes)
		if err != nil {
			return fmt.Errorf("complete chunks: %w", err)
		}
		applied := make([]bool, len(cs))
		for rows.Next() {
			var ord int64
			var jobID string
			var iterations int
			if err := rows.Scan(&ord, &jobID, &iterations); err != nil {
				rows.Close()
				return fmt.Errorf("complete chunks: %w", err)
			}
			i := int(ord - 1)
			applied[i], jobOf[i] = true, jobID
			outs[i].Applied, outs[i].ChunkStatus = true, protocol.StatusCompleted
			added[jobID] += iterations
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("complete chunks: %w", err)
		}
		var missed []int
		for i := range cs {
			if !applied[i] {
				missed = append(missed, i)
			}
		}
		// Already completed or failed (a repeat): its status and job.
		for _, i := range missed {
			if err := tx.QueryRow(ctx, "SELECT job_id::text, status FROM jobs_chunks WHERE id = $1", cs[i].ChunkID).Scan(&jobOf[i], &outs[i].ChunkStatus); err != nil {
				return notFound(err, "chunk "+cs[i].ChunkID)
			}
		}
		jobIDs := make([]string, 0, len(added))
		for id := range added {
			jobIDs = append(jobIDs, id)
		}
		slices.Sort(jobIDs)
		for _, jobID := range jobIDs {
			// Each chunk is counted once (above), so the update that brings
			// the count to the total is the last.
			var jobStatus string
			var done, total int64
			if err := tx.QueryRow(ctx, `UPDATE jobs SET completed_iterations = completed_iterations + $2 WHERE id = $1
				RETURNING status, completed_iterations, total_iterations`, jobID, added[jobID]).Scan(&jobStatus, &done, &total); err != nil {
				return fmt.Errorf("count iterations: %w", err)
			}
			if done != total || jobStatus == protocol.StatusCompleted || jobStatus == protocol.StatusFailed {
				continue
			}
			rows, err := tx.Query(ctx, "SELECT result FROM jobs_chunks WHERE job_id = $1 ORDER BY seed_offset, id", jobID)
			if err != nil {
				return fmt.Errorf("read chunk results: %w", err)
			}
			raw, err := pgx.CollectRows(rows, pgx.RowTo[json.RawMessage])
			if err != nil {
				return fmt.Errorf("read chunk results: %w", err)
			}
			jobResult, err := aggregate.Merge(raw)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE jobs SET status = 'completed', result = $2, completed_at = $3 WHERE id = $1",
				jobID, jobResult, cs[0].Now); err != nil {
				return fmt.Errorf("complete job: %w", err)
			}
		}
		jobs := map[string]Job{}
		for i := range cs {
			job, ok := jobs[jobOf[i]]
			if !ok {
				var err error
				if job, err = scanJob(tx.QueryRow(ctx, "SELECT "+jobCols+" FROM jobs WHERE id = $1", jobOf[i])); err != nil {
					return notFound(err, "job "+jobOf[i])
				}
				jobs[jobOf[i]] = job
			}
			outs[i].Job, outs[i].JobComplete = job, job.Status == protocol.StatusCompleted
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return outs, nil
}

// RequeueChunk puts a chunk held by r.NodeID back to pending.
func (p *Postgres) RequeueChunk(ctx context.Context, r Requeue) (bool, error) {
	if err := checkIDs("chunk", r.ChunkID, r.NodeID); err != nil {
		return false, err
	}
	attempt := 0
	if r.CountAttempt {
		attempt = 1
	}
	tag, err := p.pool.Exec(ctx, `UPDATE jobs_chunks SET status = 'pending', node_id = NULL, claimed_at = NULL,
			previous_node_ids = array_append(previous_node_ids, node_id),
			attempts = attempts + $3, last_error = coalesce(nullif($4, ''), last_error)
		WHERE id = $1 AND status = 'running' AND node_id = $2`, r.ChunkID, r.NodeID, attempt, r.Error)
	if err != nil {
		return false, fmt.Errorf("requeue chunk: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// FailChunk fails a chunk held by f.NodeID, its job and the job's other
// unfinished chunks.
func (p *Postgres) FailChunk(ctx context.Context, f Failure) (bool, error) {
	if err := checkIDs("chunk", f.ChunkID, f.NodeID); err != nil {
		return false, err
	}
	var ok bool
	err := p.tx(ctx, func(tx pgx.Tx) error {
		ok = false
		var jobID string
		err := tx.QueryRow(ctx, `UPDATE jobs_chunks SET status = 'failed', attempts = attempts + 1, last_error = $3, completed_at = $4
			WHERE id = $1 AND status = 'running' AND node_id = $2 RETURNING job_id::text`,
			f.ChunkID, f.NodeID, f.Error, f.Now).Scan(&jobID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("fail chunk: %w", err)
		}
		ok = true
		if _, err := tx.Exec(ctx, `UPDATE jobs SET status = 'failed', error = $2, completed_at = $3
			WHERE id = $1 AND status IN ('pending', 'running')`, jobID, f.Error, f.Now); err != nil {
			return fmt.Errorf("fail job: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE jobs_chunks SET status = 'failed', last_error = 'job failed: ' || $2, completed_at = $3
			WHERE job_id = $1 AND status IN ('pending', 'running')`, jobID, f.Error, f.Now); err != nil {
			return fmt.Errorf("fail job's chunks: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM jobs_unassigned WHERE job_id = $1", jobID); err != nil {
			return fmt.Errorf("fail job's unassigned range: %w", err)
		}
		return nil
	})
	return ok, err
}

// ReclaimSilent puts running chunks of silent nodes back to pending.
func (p *Postgres) ReclaimSilent(ctx context.Context, seenBefore time.Time) ([]string, error) {
	rows, err := p.pool.Query(ctx, `UPDATE jobs_chunks c SET status = 'pending', node_id = NULL, claimed_at = NULL,
			previous_node_ids = array_append(c.previous_node_ids, c.node_id)
		FROM nodes n
		WHERE c.node_id = n.id AND c.status = 'running' AND (n.last_seen_at IS NULL OR n.last_seen_at < $1)
		RETURNING c.id::text`, seenBefore)
	if err != nil {
		return nil, fmt.Errorf("reclaim chunks: %w", err)
	}
	return collectIDs(rows, "reclaim chunks")
}

// OverdueChunks returns running chunks claimed before a time on nodes seen
// since another.
func (p *Postgres) OverdueChunks(ctx context.Context, claimedBefore, seenSince time.Time) ([]Chunk, error) {
	rows, err := p.pool.Query(ctx, "SELECT "+chunkCols+` FROM jobs_chunks
		WHERE status = 'running' AND claimed_at < $1 AND node_id IN (SELECT id FROM nodes WHERE last_seen_at >= $2)
		ORDER BY claimed_at`, claimedBefore, seenSince)
	if err != nil {
		return nil, fmt.Errorf("overdue chunks: %w", err)
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Chunk, error) { return scanChunk(r) })
	if err != nil {
		return nil, fmt.Errorf("overdue chunks: %w", err)
	}
	return cs, nil
}

// Counts returns online nodes and pending and running chunks.
func (p *Postgres) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := p.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM nodes WHERE status = 'online')::int,
		(SELECT count(*) FROM jobs_chunks WHERE status = 'pending')::int,
		(SELECT count(*) FROM jobs_chunks WHERE status = 'running')::int`).Scan(&c.NodesOnline, &c.ChunksPending, &c.ChunksRunning)
	if err != nil {
		return c, fmt.Errorf("counts: %w", err)
	}
	return c, nil
}

// ---- replay memory and maintenance ----

// RememberSignature records a signature, reports whether it was new and
// reads the node of its key: two statements sent as one batch.
func (p *Postgres) RememberSignature(ctx context.Context, s Signature) (Signer, error) {
	var b pgx.Batch
	b.Queue(`INSERT INTO seen_signatures (signature, expires_at) VALUES ($1, $3)
		ON CONFLICT (signature) DO UPDATE SET expires_at = EXCLUDED.expires_at
		WHERE seen_signatures.expires_at < $2 RETURNING true`, s.Signature, s.Now, s.Expires)
	b.Queue("SELECT "+nodeCols+nodeFullJoin+" WHERE public_key = $1", s.Key)
	br := p.pool.SendBatch(ctx, &b)
	defer br.Close()
	var out Signer
	if err := br.QueryRow().Scan(&out.Fresh); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Signer{}, fmt.Errorf("remember signature: %w", err)
	}
	n, err := scanNodeFull(br.QueryRow())
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return Signer{}, fmt.Errorf("node by key: %w", err)
	default:
		out.Known, out.Node = true, n
	}
	if err := br.Close(); err != nil {
		return Signer{}, fmt.Errorf("remember signature: %w", err)
	}
	return out, nil
}

// PruneSignatures forgets expired signatures.
func (p *Postgres) PruneSignatures(ctx context.Context, now time.Time) error {
	if _, err := p.pool.Exec(ctx, "DELETE FROM seen_signatures WHERE expires_at < $1", now); err != nil {
		return fmt.Errorf("prune signatures: %w", err)
	}
	return nil
}

// RunExclusive runs fn at most once per every across all instances: it
// holds a transaction-scoped advisory lock for the task while fn runs and
// records the run time in maintenance_runs.
func (p *Postgres) RunExclusive(ctx context.Context, name string, every time.Duration, now time.Time, fn func(context.Context) error) (bool, error) {
	ran := false
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock(hashtext('wowlab:' || $1))", name).Scan(&locked); err != nil {
			return fmt.Errorf("take %s lock: %w", name, err)
		}
		if !locked {
			return nil
		}
		var last pgtype.Timestamptz
		err := tx.QueryRow(ctx, "SELECT last_run_at FROM maintenance_runs WHERE name = $1", name).Scan(&last)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read %s last run: %w", name, err)
		}
		if last.Valid && now.Sub(last.Time) < every {
			return nil
		}
		if err := fn(ctx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO maintenance_runs (name, last_run_at) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET last_run_at = EXCLUDED.last_run_at`, name, now); err != nil {
			return fmt.Errorf("record %s run: %w", name, err)
		}
		ran = true
		return nil
	})
	return ran, err
}
