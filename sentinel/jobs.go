package sentinel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"wowlab/engine"
	"wowlab/protocol"
	"wowlab/sentinel/store"
)

// Job limits.
const (
	// MaxIterations is the most iterations one job may ask for. A job is a
	// range carved into chunks as it is worked, so its size costs nothing
	// until work is handed out.
	MaxIterations = 1_000_000_000_000
	// MaxConfigBytes is the largest config accepted.
	MaxConfigBytes = 1 << 20
)

// Job access types (jobs.access_type).
const (
	AccessPrivate = "private"
	AccessPublic  = "public"
	AccessUser    = "user"
	AccessDiscord = "discord"
)

var configHashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// CanonicalJSON returns the canonical text of a JSON object: object keys
// sorted, no insignificant white space, numbers as written. It refuses
// anything that is not a single JSON object, and an object holding a NUL
// character in a string, which no store can keep.
func CanonicalJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("config is not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("config has data after the JSON object")
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, errors.New("config must be a JSON object")
	}
	if err := checkJSONStrings(v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// encoding/json writes map keys sorted and no white space.
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ConfigHash is the lowercase hex SHA-256 of a config's canonical text.
func ConfigHash(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// JobRequest is a job submission (the create_job rpc's arguments).
type JobRequest struct {
	// Config is the config object; or else ConfigHash names a stored one.
	Config          json.RawMessage `json:"p_config,omitempty"`
	ConfigHash      string          `json:"p_config_hash,omitempty"`
	Iterations      int             `json:"p_iterations"`
	AccessType      string          `json:"p_access_type,omitempty"`
	DiscordServerID string          `json:"p_discord_server_id,omitempty"`
}

// JobCreated answers a job submission. Chunks is how many chunks of
// protocol.ChunkSize the job holds at most; nodes taking sized chunks are
// given fewer, larger ones, carved as the job is worked.
type JobCreated struct {
	JobID  string `json:"jobId"`
	Chunks int    `json:"chunks"`
}

// CreateJob stores a job of userID: the range of iterations [0,
// req.Iterations), from which the scheduler carves chunks as nodes take
// work; iteration g of the job runs with seed offset g wherever it runs.
func (s *Service) CreateJob(ctx context.Context, userID string, req JobRequest) (JobCreated, error) {
	if req.Iterations < 1 || req.Iterations > MaxIterations {
		return JobCreated{}, refuse(KindInvalid, "p_iterations must be between 1 and %d", MaxIterations)
	}
	access := req.AccessType
	if access == "" {
		access = AccessPrivate
	}
	switch access {
	case AccessPrivate, AccessPublic, AccessUser:
	case AccessDiscord:
		return JobCreated{}, refuse(KindInvalid, "access type discord is not supported by this sentinel: it cannot check Discord server membership; use private, public or user")
	default:
		return JobCreated{}, refuse(KindInvalid, "p_access_type must be private, public or user")
	}
	var canonical []byte
	hash := req.ConfigHash
	hasConfig := len(req.Config) > 0 && string(req.Config) != "null"
	switch {
	case hasConfig && hash != "":
		return JobCreated{}, refuse(KindInvalid, "give p_config or p_config_hash, not both")
	case hasConfig:
		if len(req.Config) > MaxConfigBytes {
			return JobCreated{}, refuse(KindInvalid, "p_config is larger than %d bytes", MaxConfigBytes)
		}
		c, err := CanonicalJSON(req.Config)
		if err != nil {
			return JobCreated{}, refuse(KindInvalid, "p_config: %v", err)
		}
		canonical, hash = c, ConfigHash(c)
	case hash == "":
		return JobCreated{}, refuse(KindInvalid, "p_config or p_config_hash is required")
	case !configHashPattern.MatchString(hash):
		return JobCreated{}, refuse(KindInvalid, "p_config_hash must be 64 lowercase hex digits")
	default:
		// A stored config is the user's to use only when one of the
		// user's jobs used it: knowing a hash (from a chunk a node ran)
		// grants nothing.
		c, err := s.storedConfig(ctx, userID, hash)
		if err != nil {
			return JobCreated{}, err
		}
		canonical = c
	}
	if err := s.checkConfig(ctx, userID, canonical); err != nil {
		return JobCreated{}, err
	}
	job := store.Job{
		ID: uuid.NewString(), UserID: userID, ConfigHash: hash, TotalIterations: req.Iterations,
		Status: protocol.StatusPending, AccessType: access,
	}
	n := (req.Iterations + protocol.ChunkSize - 1) / protocol.ChunkSize
	stored := canonical
	if !hasConfig {
		stored = nil // already stored: CreateJob only marks it used
	}
	err := s.store.CreateJob(ctx, store.NewJob{Job: job, Config: stored, Now: s.clock.Now()})
	if errors.Is(err, store.ErrNotFound) {
		return JobCreated{}, refuse(KindNotFound, "no stored config with hash %s; send p_config", hash)
	}
	if err != nil {
		return JobCreated{}, fmt.Errorf("create job: %w", err)
	}
	s.log.Info("job created", "job", job.ID, "user", userID, "iterations", req.Iterations, "access", access)
	s.Kick()
	return JobCreated{JobID: job.ID, Chunks: n}, nil
}

// asUser is the row access of a user's own reads.
func asUser(userID string) (store.Access, error) {
	if _, err := uuid.Parse(userID); err != nil {
		return store.Access{}, refuse(KindNotFound, "no user %q", userID)
	}
	return store.Access{Role: store.AccessUser, UserID: userID}, nil
}

// storedConfig returns the canonical text of a stored config that a job of
// userID already used, or KindNotFound.
func (s *Service) storedConfig(ctx context.Context, userID, hash string) ([]byte, error) {
	a, err := asUser(userID)
	if err != nil {
		return nil, err
	}
	raw, err := s.store.Select(ctx, store.Query{Table: "jobs_configs", Columns: []string{"config"}, Limit: 1, Access: a,
		Filters: []store.Filter{{Column: "hash", Op: store.OpEq, Values: []string{hash}}}})
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var rows []struct {
		Config json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if len(rows) == 0 {
		return nil, refuse(KindNotFound, "no stored config with hash %s among your jobs; send p_config", hash)
	}
	return CanonicalJSON(rows[0].Config)
}

// checkConfig compiles a config the way a node will run it, its rotation
// (rotationId) fetched and put in, and refuses one the engine cannot run
// with the engine's message and JSON path: such a job could only fail on
// every node.
func (s *Service) checkConfig(ctx context.Context, userID string, canonical []byte) error {
	doc, err := s.withRotation(ctx, userID, canonical)
	if err != nil {
		return err
	}
	if _, err := engine.Compile(doc); err != nil {
		var ce *engine.ConfigError
		if errors.As(err, &ce) {
			return refuse(KindInvalid, "p_config: %s", strings.TrimPrefix(ce.Error(), "config: "))
		}
		return refuse(KindInvalid, "p_config: %v", err)
	}
	return nil
}

// withRotation returns the config with the script of its rotationId in
// "rotation", as a node builds it, refusing a rotation userID may not read
// (PROTOCOL section 6: a node may read the rotation of a chunk it runs, so
// a job could otherwise lend another user's private rotation to its own
// user's node). A config without rotationId (or with null) is
// self-contained, as the node treats it, and returned as it is.
func (s *Service) withRotation(ctx context.Context, userID string, canonical []byte) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(canonical, &doc); err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	raw, ok := doc["rotationId"]
	if !ok || string(raw) == "null" {
		return canonical, nil
	}
	var id string
	if err := json.Unmarshal(raw, &id); err != nil {
		return nil, refuse(KindInvalid, "rotationId must be a rotation's id, a string")
	}
	if u, err := uuid.Parse(id); err != nil || u.String() != id {
		return nil, refuse(KindInvalid, "rotationId %q is not a rotation's id (a UUID in lower case)", id)
	}
	a, err := asUser(userID)
	if err != nil {
		return nil, err
	}
	raw, err = s.store.Select(ctx, store.Query{Table: "rotations", Columns: []string{"script"}, Limit: 1, Access: a,
		Filters: []store.Filter{{Column: "id", Op: store.OpEq, Values: []string{id}}}})
	if err != nil {
		return nil, fmt.Errorf("read rotation: %w", err)
	}
	var rows []struct {
		Script string `json:"script"`
	}
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("read rotation: %w", err)
	}
	if len(rows) == 0 {
		return nil, refuse(KindForbidden, "rotation %s is not yours and not public: a job may only use a rotation its user may read", id)
	}
	script, err := json.Marshal(rows[0].Script)
	if err != nil {
		return nil, fmt.Errorf("encode rotation: %w", err)
	}
	doc["rotation"] = script
	return json.Marshal(doc)
}

// Job returns a job of userID; another user's job is not found.
func (s *Service) Job(ctx context.Context, userID, jobID string) (store.Job, error) {
	j, err := s.store.JobByID(ctx, jobID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && j.UserID != userID) {
		return store.Job{}, refuse(KindNotFound, "Job not found")
	}
	if err != nil {
		return store.Job{}, fmt.Errorf("read job: %w", err)
	}
	return j, nil
}
