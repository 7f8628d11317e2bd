package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"wowlab/engine"
	"wowlab/supabase"
)

// ErrNotFound is returned by the queries when no row matches.
var ErrNotFound = errors.New("not found")

// Chunk is a jobs_chunks row as the node reads it: an assignment.
type Chunk struct {
	ID         string `json:"id"`
	NodeID     string `json:"node_id,omitempty"`
	Status     string `json:"status,omitempty"`
	Iterations int    `json:"iterations"`
	ConfigHash string `json:"config_hash"`
	SeedOffset int    `json:"seed_offset"`
}

// MaxChunkIterations is the largest chunk this node accepts, and announces
// with its sized-chunk offer: what the engine runs in one call. A larger
// chunk is refused with /chunks/fail before anything is allocated for it.
const MaxChunkIterations = engine.MaxIterations

// maxConfigHashLen is the length of a config hash: SHA-256 in hex.
const maxConfigHashLen = 64

// validate reports why a chunk row cannot be run.
func (c Chunk) validate() error {
	switch {
	case c.ID == "":
		return errors.New("chunk has no id")
	case uuid.Validate(c.ID) != nil:
		return fmt.Errorf("chunk id %.40q is not a UUID", c.ID)
	case c.ConfigHash == "":
		return errors.New("chunk has no config_hash")
	case len(c.ConfigHash) > maxConfigHashLen:
		return fmt.Errorf("chunk config_hash has %d characters, more than a SHA-256 in hex", len(c.ConfigHash))
	case c.Iterations < 1 || c.Iterations > MaxChunkIterations:
		return fmt.Errorf("chunk has %d iterations; this node accepts 1 to %d", c.Iterations, MaxChunkIterations)
	case c.SeedOffset < 0:
		return fmt.Errorf("chunk has negative seed_offset %d", c.SeedOffset)
	}
	return nil
}

// Queries are the three PostgREST reads of the node (PROTOCOL section 5).
type Queries struct {
	rest *supabase.REST
}

// NewQueries returns the queries over rest.
func NewQueries(rest *supabase.REST) *Queries { return &Queries{rest: rest} }

// Config fetches the config stored under hash.
func (q *Queries) Config(ctx context.Context, hash string) (json.RawMessage, error) {
	var rows []struct {
		Config json.RawMessage `json:"config"`
	}
	if err := q.rest.Select(ctx, "jobs_configs", []string{"config"}, &rows, supabase.Eq("hash", hash)); err != nil {
		return nil, fmt.Errorf("fetch config %s: %w", hash, err)
	}
	if len(rows) == 0 || len(rows[0].Config) == 0 || string(rows[0].Config) == "null" {
		return nil, fmt.Errorf("config %s: %w", hash, ErrNotFound)
	}
	return rows[0].Config, nil
}

// Rotation fetches a rotation's script and checksum. A script that does not
// match a published checksum is refused.
func (q *Queries) Rotation(ctx context.Context, id string) (Rotation, error) {
	var rows []Rotation
	if err := q.rest.Select(ctx, "rotations", []string{"id", "script", "checksum"}, &rows, supabase.Eq("id", id)); err != nil {
		return Rotation{}, fmt.Errorf("fetch rotation %s: %w", id, err)
	}
	if len(rows) == 0 {
		return Rotation{}, fmt.Errorf("rotation %s: %w", id, ErrNotFound)
	}
	r := rows[0]
	if r.Checksum != "" {
		sum := sha256.Sum256([]byte(r.Script))
		if hex.EncodeToString(sum[:]) != r.Checksum {
			return Rotation{}, fmt.Errorf("rotation %s: script does not match its checksum", id)
		}
	}
	return r, nil
}

// RunningChunks lists the chunks assigned to node that are running.
func (q *Queries) RunningChunks(ctx context.Context, nodeID string) ([]Chunk, error) {
	var rows []Chunk
	err := q.rest.Select(ctx, "jobs_chunks", []string{"id", "iterations", "config_hash", "seed_offset"}, &rows,
		supabase.Eq("node_id", nodeID), supabase.Eq("status", "running"))
	if err != nil {
		return nil, fmt.Errorf("list running chunks: %w", err)
	}
	return rows, nil
}
