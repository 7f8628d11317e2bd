package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

// ---- jobs ----

const jobCols = `id, user_id, config_hash, total_iterations, completed_iterations, status, result,
	created_at, completed_at, access_type, coalesce(discord_server_id, ''), coalesce(error, '')`

func scanJob(row interface{ Scan(...any) error }) (store.Job, error) {
	var j store.Job
	err := row.Scan(&j.ID, &j.UserID, &j.ConfigHash, &j.TotalIterations, &j.CompletedIterations, &j.Status, rawCol{&j.Result},
		timeCol{&j.CreatedAt}, timeCol{&j.CompletedAt}, &j.AccessType, &j.DiscordServerID, &j.Error)
	return j, err
}

// CreateJob stores a job, its first chunks, the unassigned rest of its
// range and its config in one transaction.
func (s *Store) CreateJob(ctx context.Context, nj store.NewJob) error {
	j := nj.Job
	rest, err := store.UnassignedStart(nj)
	if err != nil {
		return err
	}
	jobID, err := newID("job", j.ID)
	if err != nil {
		return fmt.Errorf("create job: %w", err)
	}
	userID, err := newID("user", j.UserID)
	if err != nil {
		return fmt.Errorf("create job: %w", err)
	}
	chunkIDs := make([]string, len(nj.Chunks))
	for i, c := range nj.Chunks {
		if chunkIDs[i], err = newID("chunk", c.ID); err != nil {
			return fmt.Errorf("create job: %w", err)
		}
	}
	now := fmtTime(nj.Now)
	return s.write(ctx, func(tx *sql.Tx) error {
		if nj.Config != nil {
			if !json.Valid(nj.Config) {
				return fmt.Errorf("store config: the config is not valid JSON")
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO jobs_configs (hash, config, created_at, last_used_at) VALUES (?1, json(?2), ?3, ?3)
				ON CONFLICT (hash) DO UPDATE SET last_used_at = max(jobs_configs.last_used_at, excluded.last_used_at)`,
				j.ConfigHash, string(nj.Config), now); err != nil {
				return fmt.Errorf("store config: %w", err)
			}
		} else {
			res, err := tx.ExecContext(ctx, "UPDATE jobs_configs SET last_used_at = max(last_used_at, ?2) WHERE hash = ?1", j.ConfigHash, now)
			if err != nil {
				return fmt.Errorf("touch config: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return fmt.Errorf("config %s: %w", j.ConfigHash, store.ErrNotFound)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (id, user_id, config_hash, total_iterations, status, created_at, access_type, discord_server_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			jobID, userID, j.ConfigHash, j.TotalIterations, j.Status, now, j.AccessType, nullString(j.DiscordServerID)); err != nil {
			return fmt.Errorf("insert job: %w", err)
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO jobs_chunks (id, job_id, config_hash, iterations, seed_offset, status, created_at)
			VALUES (?, ?, ?, ?, ?, 'pending', ?)`)
		if err != nil {
			return fmt.Errorf("insert chunks: %w", err)
		}
		defer stmt.Close()
		for i, c := range nj.Chunks {
			if _, err := stmt.ExecContext(ctx, chunkIDs[i], jobID, j.ConfigHash, c.Iterations, c.SeedOffset, now); err != nil {
				return fmt.Errorf("insert chunks: %w", err)
			}
		}
		if rest < j.TotalIterations {
			if _, err := tx.ExecContext(ctx, "INSERT INTO jobs_unassigned (job_id, next_offset, total) VALUES (?, ?, ?)",
				jobID, rest, j.TotalIterations); err != nil {
				return fmt.Errorf("insert unassigned range: %w", err)
			}
		}
		return nil
	})
}

// JobByID returns a job or ErrNotFound.
func (s *Store) JobByID(ctx context.Context, id string) (store.Job, error) {
	return s.jobByID(ctx, s.reader, id)
}

func (s *Store) jobByID(ctx context.Context, q queryer, id string) (store.Job, error) {
	id, err := lookupID("job", id)
	if err != nil {
		return store.Job{}, err
	}
	j, err := scanJob(q.QueryRowContext(ctx, "SELECT "+jobCols+" FROM jobs WHERE id = ?", id))
	return j, notFound(err, "job "+id)
}

// jsonColumns are the columns holding JSON (PostgreSQL jsonb and uuid[]):
// ReadRows embeds them instead of quoting them.
var jsonColumns = map[string]bool{"result": true, "config": true, "previous_node_ids": true}

// ReadRows returns rows of nodes, jobs or jobs_chunks as JSON objects with
// PostgreSQL's to_jsonb shape: column names as keys, text and timestamps as
// strings, integers as numbers, NULL as null and JSON columns embedded.
func (s *Store) ReadRows(ctx context.Context, table string, ids []string) (map[string]json.RawMessage, error) {
	if !store.Readable(table) {
		return nil, fmt.Errorf("read rows: table %q is not readable", table)
	}
	args := make([]any, 0, len(ids))
	for _, id := range ids {
		if id, err := lookupID(table, id); err == nil {
			args = append(args, id)
		}
	}
	out := make(map[string]json.RawMessage, len(args))
	if len(args) == 0 {
		return out, nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(args)), ",")
	rows, err := s.reader.QueryContext(ctx, "SELECT * FROM "+table+" WHERE id IN ("+marks+")", args...)
	if err != nil {
		return nil, fmt.Errorf("read rows: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("read rows: %w", err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read rows: %w", err)
		}
		id, row, err := rowJSON(cols, vals)
		if err != nil {
			return nil, fmt.Errorf("read rows: %w", err)
		}
		out[id] = row
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rows: %w", err)
	}
	return out, nil
}

// rowJSON renders one scanned row as a JSON object and returns its id.
func rowJSON(cols []string, vals []any) (string, json.RawMessage, error) {
	var id string
	var b bytes.Buffer
	b.WriteByte('{')
	for i, col := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(col)
		b.Write(key)
		b.WriteByte(':')
		switch v := vals[i].(type) {
		case nil:
			b.WriteString("null")
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case string:
			if col == "id" {
				id = v
			}
			if jsonColumns[col] {
				if !json.Valid([]byte(v)) {
					return "", nil, fmt.Errorf("column %s holds invalid JSON", col)
				}
				b.WriteString(v)
				break
			}
			enc, _ := json.Marshal(v)
			b.Write(enc)
		default:
			enc, err := json.Marshal(v)
			if err != nil {
				return "", nil, fmt.Errorf("column %s: %w", col, err)
			}
			b.Write(enc)
		}
	}
	b.WriteByte('}')
	return id, json.RawMessage(b.Bytes()), nil
}

// DeleteUnusedConfigs removes configs no job references, unused since a time.
func (s *Store) DeleteUnusedConfigs(ctx context.Context, lastUsedBefore time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM jobs_configs WHERE last_used_at < ?
			AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.config_hash = jobs_configs.hash)`, fmtTime(lastUsedBefore))
		if err != nil {
			return fmt.Errorf("delete unused configs: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// ---- chunks ----

const chunkCols = `id, job_id, coalesce(node_id, ''), config_hash, iterations, seed_offset, status,
	result, claimed_at, completed_at, created_at, attempts, coalesce(last_error, ''), previous_node_ids`

func scanChunk(row interface{ Scan(...any) error }) (store.Chunk, error) {
	var c store.Chunk
	err := row.Scan(&c.ID, &c.JobID, &c.NodeID, &c.ConfigHash, &c.Iterations, &c.SeedOffset, &c.Status,
		rawCol{&c.Result}, timeCol{&c.ClaimedAt}, timeCol{&c.CompletedAt}, timeCol{&c.CreatedAt}, &c.Attempts, &c.LastError,
		idsCol{&c.PreviousNodeIDs})
	return c, err
}

func scanChunkRows(r *sql.Rows) (store.Chunk, error) { return scanChunk(r) }

// ChunkByID returns a chunk or ErrNotFound.
func (s *Store) ChunkByID(ctx context.Context, id string) (store.Chunk, error) {
	id, err := lookupID("chunk", id)
	if err != nil {
		return store.Chunk{}, err
	}
	c, err := scanChunk(s.reader.QueryRowContext(ctx, "SELECT "+chunkCols+" FROM jobs_chunks WHERE id = ?", id))
	return c, notFound(err, "chunk "+id)
}

// AssignPending reads pending chunks and online nodes, plans and applies,
// all in one write transaction: with a single writer the rows cannot change
// underneath, which is what PostgreSQL's row locks give.
func (s *Store) AssignPending(ctx context.Context, limit int, now time.Time, plan store.Planner) ([]store.Assignment, error) {
	if limit < 0 {
		return nil, fmt.Errorf("assign chunks: negative limit %d", limit)
	}
	var applied []store.Assignment
	err := s.write(ctx, func(tx *sql.Tx) error {
		applied = nil
		work, err := collect(query(tx.QueryContext(ctx, `SELECT c.id, c.job_id, j.user_id, j.access_type, c.created_at, c.iterations,
				json_array_length(c.previous_node_ids) > 0
			FROM jobs_chunks c JOIN jobs j ON j.id = c.job_id
			WHERE c.status = 'pending' AND c.node_id IS NULL AND j.status IN ('pending', 'running')
			ORDER BY c.created_at, c.seed_offset, c.id LIMIT ?`, limit)), func(r *sql.Rows) (store.PendingChunk, error) {
			var c store.PendingChunk
			err := r.Scan(&c.ID, &c.JobID, &c.JobOwner, &c.AccessType, timeCol{&c.CreatedAt}, &c.Iterations, &c.Held)
			return c, err
		})
		if err != nil {
			return fmt.Errorf("read pending chunks: %w", err)
		}
		rests := map[string]*store.Carve{}
		tails, err := collect(query(tx.QueryContext(ctx, `SELECT u.job_id, j.user_id, j.access_type, j.created_at, u.total - u.next_offset,
				u.next_offset, j.config_hash
			FROM jobs_unassigned u JOIN jobs j ON j.id = u.job_id
			WHERE j.status IN ('pending', 'running')
			ORDER BY j.created_at, u.job_id LIMIT ?`, limit)), func(r *sql.Rows) (store.PendingChunk, error) {
			var c store.PendingChunk
			var cv store.Carve
			err := r.Scan(&c.JobID, &c.JobOwner, &c.AccessType, timeCol{&c.CreatedAt}, &c.Iterations, &cv.Next, &cv.ConfigHash)
			cv.End = cv.Next + c.Iterations
			rests[c.JobID] = &cv
			return c, err
		})
		if err != nil {
			return fmt.Errorf("read unassigned ranges: %w", err)
		}
		work = append(work, tails...)
		if len(work) == 0 {
			return nil
		}
		nodes, err := collect(query(tx.QueryContext(ctx, `SELECT n.id, n.user_id, n.max_parallel, n.total_cores, n.capacity,
				coalesce((SELECT o.chunk_max FROM nodes_chunk_offers o WHERE o.node_id = n.id), 0),
				coalesce((SELECT o.throughput FROM nodes_chunk_offers o WHERE o.node_id = n.id), 0),
				(SELECT count(*) FROM jobs_chunks c WHERE c.node_id = n.id AND c.status = 'running'),
				(SELECT coalesce(sum(c.iterations), 0) FROM jobs_chunks c WHERE c.node_id = n.id AND c.status = 'running'),
				(SELECT c.claimed_at FROM jobs_chunks c WHERE c.node_id = n.id AND c.status = 'running'
					ORDER BY c.claimed_at DESC, c.seed_offset DESC LIMIT 1),
				coalesce((SELECT c.iterations FROM jobs_chunks c WHERE c.node_id = n.id AND c.status = 'running'
					ORDER BY c.claimed_at DESC, c.seed_offset DESC LIMIT 1), 0),
				(SELECT json_group_array(p.target_id) FROM nodes_permissions p WHERE p.node_id = n.id AND p.access_type = 'user')
			FROM nodes n WHERE n.status = 'online' AND n.user_id IS NOT NULL ORDER BY n.id`)), func(r *sql.Rows) (store.NodeLoad, error) {
			var n store.NodeLoad
			err := r.Scan(&n.ID, &n.UserID, &n.MaxParallel, &n.TotalCores, &n.Capacity, &n.ChunkMax, &n.Throughput, &n.Running,
				&n.Held, timeCol{&n.LastClaimed}, &n.LastIterations, idsCol{&n.GrantedTo})
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
		fromRows, carved := store.SplitPlan(work, nodes, want, rests)
		at := fmtTime(now)
		started := map[string]bool{}
		var jobs []string
		start := func(job string) {
			if !started[job] {
				started[job] = true
				jobs = append(jobs, job)
			}
		}
		for _, a := range fromRows {
			// A row given in part leaves the rest of its range pending, as a
			// new row with the row's attempts (no node held the new row).
			if _, err := tx.ExecContext(ctx, `INSERT INTO jobs_chunks (id, job_id, config_hash, iterations, seed_offset, status, created_at,
					attempts, last_error)
				SELECT ?2, job_id, config_hash, iterations - ?3, seed_offset + ?3, 'pending', created_at, attempts, last_error
				FROM jobs_chunks WHERE id = ?1 AND status = 'pending' AND node_id IS NULL AND iterations > ?3`,
				a.ChunkID, uuid.NewString(), a.Iterations); err != nil {
				return fmt.Errorf("split chunk: %w", err)
			}
			var job string
			var n int
			err = tx.QueryRowContext(ctx, `UPDATE jobs_chunks SET node_id = ?, status = 'running', claimed_at = ?, iterations = min(iterations, ?)
				WHERE id = ? AND status = 'pending' AND node_id IS NULL RETURNING job_id, iterations`, a.NodeID, at, a.Iterations, a.ChunkID).Scan(&job, &n)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("assign chunks: %w", err)
			}
			applied = append(applied, store.Assignment{ChunkID: a.ChunkID, JobID: job, NodeID: a.NodeID, Iterations: n})
			start(job)
		}
		for _, c := range carved {
			if _, err := tx.ExecContext(ctx, `INSERT INTO jobs_chunks (id, job_id, node_id, config_hash, iterations, seed_offset, status, claimed_at, created_at)
				VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)`, c.ChunkID, c.JobID, c.NodeID, c.ConfigHash, c.Iterations, c.SeedOffset, at, at); err != nil {
				return fmt.Errorf("carve chunks: %w", err)
			}
			applied = append(applied, c.Assignment)
			start(c.JobID)
		}
		for job, r := range rests {
			var err error
			switch {
			case r.Next >= r.End:
				_, err = tx.ExecContext(ctx, "DELETE FROM jobs_unassigned WHERE job_id = ?", job)
			case r.Moved:
				_, err = tx.ExecContext(ctx, "UPDATE jobs_unassigned SET next_offset = ? WHERE job_id = ?", r.Next, job)
			}
			if err != nil {
				return fmt.Errorf("carve chunks: %w", err)
			}
		}
		for _, job := range jobs {
			if _, err := tx.ExecContext(ctx, "UPDATE jobs SET status = 'running' WHERE id = ? AND status = 'pending'", job); err != nil {
				return fmt.Errorf("start jobs: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return applied, nil
}

// CompleteChunks records results and completes jobs exactly once, in one
// transaction: the single writer serialises completions of one job, so the
// last one sees every other chunk done.
func (s *Store) CompleteChunks(ctx context.Context, cs []store.Completion, aggregate store.Aggregator) ([]store.CompletionOutcome, error) {
	type item struct {
		chunkID, nodeID, result string
	}
	items := make([]item, len(cs))
	for i, c := range cs {
		chunkID, err := lookupID("chunk", c.ChunkID)
		if err != nil {
			return nil, err
		}
		nodeID, err := lookupID("node", c.NodeID)
		if err != nil {
			return nil, err
		}
		result, err := json.Marshal(c.Result)
		if err != nil {
			return nil, fmt.Errorf("encode result: %w", err)
		}
		items[i] = item{chunkID, nodeID, string(result)}
	}
	outs := make([]store.CompletionOutcome, len(cs))
	err := s.write(ctx, func(tx *sql.Tx) error {
		jobOf := make([]string, len(cs))
		for i, it := range items {
			var err error
			if jobOf[i], err = s.completeChunk(ctx, tx, it.chunkID, it.nodeID, it.result, fmtTime(cs[i].Now), aggregate, &outs[i]); err != nil {
				return err
			}
		}
		// Each outcome tells of its job after the whole batch.
		jobs := map[string]store.Job{}
		for i, id := range jobOf {
			job, ok := jobs[id]
			if !ok {
				var err error
				if job, err = s.jobByID(ctx, tx, id); err != nil {
					return fmt.Errorf("read job: %w", err)
				}
				jobs[id] = job
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

// completeChunk records one result in tx (see CompleteChunks), sets
// whether it applied and the chunk's status in out, and returns the
// chunk's job.
func (s *Store) completeChunk(ctx context.Context, tx *sql.Tx, chunkID, nodeID, result, at string, aggregate store.Aggregator, out *store.CompletionOutcome) (string, error) {
	var jobID string
	var iterations int
	err := tx.QueryRowContext(ctx, `UPDATE jobs_chunks SET status = 'completed', result = json(?2), completed_at = ?3,
			node_id = ?4, claimed_at = coalesce(claimed_at, ?3),
			previous_node_ids = CASE WHEN node_id IS NOT NULL AND node_id <> ?4
				THEN json_insert(previous_node_ids, '$[#]', node_id) ELSE previous_node_ids END
		WHERE id = ?1 AND status IN ('pending', 'running') RETURNING job_id, iterations`,
		chunkID, result, at, nodeID).Scan(&jobID, &iterations)
	if errors.Is(err, sql.ErrNoRows) {
		if err := tx.QueryRowContext(ctx, "SELECT job_id, status FROM jobs_chunks WHERE id = ?", chunkID).Scan(&jobID, &out.ChunkStatus); err != nil {
			return "", notFound(err, "chunk "+chunkID)
		}
		return jobID, nil
	}
	if err != nil {
		return "", fmt.Errorf("complete chunk: %w", err)
	}
	out.Applied, out.ChunkStatus = true, protocol.StatusCompleted
	// Each chunk is counted once (above), so the completion that brings the
	// count to the total is the last.
	var jobStatus string
	var done, total int
	if err := tx.QueryRowContext(ctx, `UPDATE jobs SET completed_iterations = completed_iterations + ? WHERE id = ?
		RETURNING status, completed_iterations, total_iterations`, iterations, jobID).Scan(&jobStatus, &done, &total); err != nil {
		return "", fmt.Errorf("count iterations: %w", err)
	}
	if done != total || jobStatus == protocol.StatusCompleted || jobStatus == protocol.StatusFailed {
		return jobID, nil
	}
	raw, err := collect(query(tx.QueryContext(ctx, "SELECT result FROM jobs_chunks WHERE job_id = ? ORDER BY seed_offset, id", jobID)),
		func(r *sql.Rows) (json.RawMessage, error) {
			var b json.RawMessage
			err := r.Scan(rawCol{&b})
			return b, err
		})
	if err != nil {
		return "", fmt.Errorf("read chunk results: %w", err)
	}
	jobResult, err := aggregate.Merge(raw)
	if err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE jobs SET status = 'completed', result = json(?), completed_at = ? WHERE id = ?",
		string(jobResult), at, jobID); err != nil {
		return "", fmt.Errorf("complete job: %w", err)
	}
	return jobID, nil
}

// RequeueChunk puts a chunk held by r.NodeID back to pending.
func (s *Store) RequeueChunk(ctx context.Context, r store.Requeue) (bool, error) {
	chunkID, err := lookupID("chunk", r.ChunkID)
	if err != nil {
		return false, err
	}
	nodeID, err := lookupID("node", r.NodeID)
	if err != nil {
		return false, err
	}
	attempt := 0
	if r.CountAttempt {
		attempt = 1
	}
	var n int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs_chunks SET status = 'pending', node_id = NULL, claimed_at = NULL,
				previous_node_ids = json_insert(previous_node_ids, '$[#]', node_id),
				attempts = attempts + ?3, last_error = coalesce(nullif(?4, ''), last_error)
			WHERE id = ?1 AND status = 'running' AND node_id = ?2`, chunkID, nodeID, attempt, r.Error)
		if err != nil {
			return fmt.Errorf("requeue chunk: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n == 1, err
}

// FailChunk fails a chunk held by f.NodeID, its job and the job's other
// unfinished chunks.
func (s *Store) FailChunk(ctx context.Context, f store.Failure) (bool, error) {
	chunkID, err := lookupID("chunk", f.ChunkID)
	if err != nil {
		return false, err
	}
	nodeID, err := lookupID("node", f.NodeID)
	if err != nil {
		return false, err
	}
	at := fmtTime(f.Now)
	var ok bool
	err = s.write(ctx, func(tx *sql.Tx) error {
		ok = false
		var jobID string
		err := tx.QueryRowContext(ctx, `UPDATE jobs_chunks SET status = 'failed', attempts = attempts + 1, last_error = ?3, completed_at = ?4
			WHERE id = ?1 AND status = 'running' AND node_id = ?2 RETURNING job_id`, chunkID, nodeID, f.Error, at).Scan(&jobID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("fail chunk: %w", err)
		}
		ok = true
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET status = 'failed', error = ?2, completed_at = ?3
			WHERE id = ?1 AND status IN ('pending', 'running')`, jobID, f.Error, at); err != nil {
			return fmt.Errorf("fail job: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jobs_chunks SET status = 'failed', last_error = 'job failed: ' || ?2, completed_at = ?3
			WHERE job_id = ?1 AND status IN ('pending', 'running')`, jobID, f.Error, at); err != nil {
			return fmt.Errorf("fail job's chunks: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM jobs_unassigned WHERE job_id = ?", jobID); err != nil {
			return fmt.Errorf("fail job's unassigned range: %w", err)
		}
		return nil
	})
	return ok, err
}

// ReclaimSilent puts running chunks of silent nodes back to pending.
func (s *Store) ReclaimSilent(ctx context.Context, seenBefore time.Time) ([]string, error) {
	var ids []string
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		ids, err = collect(query(tx.QueryContext(ctx, `UPDATE jobs_chunks SET status = 'pending', node_id = NULL, claimed_at = NULL,
				previous_node_ids = json_insert(previous_node_ids, '$[#]', node_id)
			WHERE status = 'running' AND node_id IN (
				SELECT id FROM nodes WHERE last_seen_at IS NULL OR last_seen_at < ?)
			RETURNING id`, fmtTime(seenBefore))), scanString)
		if err != nil {
			return fmt.Errorf("reclaim chunks: %w", err)
		}
		return nil
	})
	return ids, err
}

// OverdueChunks returns running chunks claimed before a time on nodes seen
// since another.
func (s *Store) OverdueChunks(ctx context.Context, claimedBefore, seenSince time.Time) ([]store.Chunk, error) {
	cs, err := collect(query(s.reader.QueryContext(ctx, "SELECT "+chunkCols+` FROM jobs_chunks
		WHERE status = 'running' AND claimed_at < ?1 AND node_id IN (SELECT id FROM nodes WHERE last_seen_at >= ?2)
		ORDER BY claimed_at`, fmtTime(claimedBefore), fmtTime(seenSince))), scanChunkRows)
	if err != nil {
		return nil, fmt.Errorf("overdue chunks: %w", err)
	}
	return cs, nil
}

// Counts returns online nodes and pending and running chunks.
func (s *Store) Counts(ctx context.Context) (store.Counts, error) {
	var c store.Counts
	err := s.reader.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM nodes WHERE status = 'online'),
		(SELECT count(*) FROM jobs_chunks WHERE status = 'pending'),
		(SELECT count(*) FROM jobs_chunks WHERE status = 'running')`).Scan(&c.NodesOnline, &c.ChunksPending, &c.ChunksRunning)
	if err != nil {
		return c, fmt.Errorf("counts: %w", err)
	}
	return c, nil
}
