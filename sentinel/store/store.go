// Package store persists the sentinel's state and tells every instance
// about changes. It holds no business rules: the sentinel package decides
// what to do, the store does it atomically and reports what changed.
//
// Postgres is the production implementation (PostgreSQL through pgx, schema
// in migrations/). A second implementation needs the same Store methods and
// a Feed for its notifications.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"wowlab/protocol"
)

// Errors the sentinel distinguishes. Implementations wrap them.
var (
	// ErrNotFound means the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a conditional change did not apply because the row
	// is no longer in the required state (for example already claimed).
	ErrConflict = errors.New("conflict")
	// ErrNotMigrated means the database schema is missing or older than this
	// binary expects.
	ErrNotMigrated = errors.New("database schema is not up to date")
)

// User is a person who owns nodes and submits jobs.
type User struct {
	ID        string
	Name      string
	TokenHash string // lowercase hex SHA-256 of the user's token
	CreatedAt time.Time
}

// Node is a row of nodes. UserID is empty while the node is unclaimed;
// LastSeenAt is zero before the first heartbeat.
type Node struct {
	ID          string
	UserID      string
	Name        string
	MaxParallel int
	Status      string
	LastSeenAt  time.Time
	Version     string
	TotalCores  int
	Platform    string
	CreatedAt   time.Time
	PublicKey   string
	ClaimCode   string
	// Capacity is the capacity of its last heartbeat (nil: none reported).
	// ChunkMax and Throughput are its sized-chunk offer (protocol
	// extension): the largest chunk it takes and its measured iterations
	// per second; 0 when it announces none. NodeByID, NodeByPublicKey and
	// RememberSignature read these three; other methods leave them zero.
	Capacity   *int
	ChunkMax   int
	Throughput float64
}

// Signature is a signed request's signature, remembered until Expires, and
// the public key that made it.
type Signature struct {
	Signature    string
	Key          string
	Now, Expires time.Time
}

// Signer is what RememberSignature learns of a signed request: whether its
// signature is new (an unexpired copy means a replay) and the node of its
// key (Known false: no node has it).
type Signer struct {
	Fresh bool
	Known bool
	Node  Node
}

// NewNode is what registration stores for a key not seen before.
type NewNode struct {
	PublicKey  string
	ClaimCode  string
	Version    string
	Platform   string
	TotalCores int
	Now        time.Time
}

// NodeUpdate changes what a node reports about itself on re-registration.
type NodeUpdate struct {
	Version    string
	Platform   string
	TotalCores int
	// Renew, when not zero, starts an unclaimed node's registration over at
	// this time (its created_at), which renews its claim code. A claimed
	// node's created_at stays.
	Renew time.Time
}

// ClaimCheck records that a user showed to know an unclaimed node's claim
// code, which lets that user claim the node by its id until Expires.
type ClaimCheck struct {
	NodeID  string
	UserID  string
	Expires time.Time
}

// Claim gives an unclaimed node to a user. Name and MaxParallel are left
// as they are when nil.
type Claim struct {
	NodeID      string
	UserID      string
	Name        *string
	MaxParallel *int
}

// Job is a row of jobs. Result is the aggregated JSON, nil until completed.
type Job struct {
	ID                  string
	UserID              string
	ConfigHash          string
	TotalIterations     int
	CompletedIterations int
	Status              string
	Result              json.RawMessage
	CreatedAt           time.Time
	CompletedAt         time.Time
	AccessType          string
	DiscordServerID     string
	Error               string
}

// Chunk is a row of jobs_chunks. NodeID is empty when no node holds it;
// PreviousNodeIDs lists nodes that held it before a reclaim or release.
type Chunk struct {
	ID              string
	JobID           string
	NodeID          string
	ConfigHash      string
	Iterations      int
	SeedOffset      int
	Status          string
	Result          json.RawMessage
	ClaimedAt       time.Time
	CompletedAt     time.Time
	CreatedAt       time.Time
	Attempts        int
	LastError       string
	PreviousNodeIDs []string
}

// NewJob is a job, created in one transaction. A job is the range of
// iterations [0, TotalIterations): Chunks are rows created with it, a
// prefix of that range in seed order (none at all is usual); the rest of
// the range stays unassigned, and AssignPending carves chunks from it as
// nodes are given work, so a job's rows grow with the work handed out, not
// with its size. Config is the canonical JSON text stored under
// ConfigHash; when nil the config must already be stored.
type NewJob struct {
	Job    Job
	Chunks []Chunk
	Config []byte
	Now    time.Time
}

// PendingChunk is work waiting for a node, with what eligibility needs:
// a pending chunk row (a reclaimed, released or requeued range), or, with
// ID empty, the unassigned rest of a job. Iterations is what it holds;
// CreatedAt is the row's (for a job's rest, the job's).
type PendingChunk struct {
	ID         string
	JobID      string
	JobOwner   string
	AccessType string
	CreatedAt  time.Time
	Iterations int
	// Held: a node held the row before (it was reclaimed or handed back),
	// and may still deliver a result for its whole range.
	Held bool
}

// NodeLoad is a claimed, online node as the scheduler sees it.
type NodeLoad struct {
	ID          string
	UserID      string
	MaxParallel int
	TotalCores  int
	Capacity    *int     // of its last heartbeat; nil: it reports none
	ChunkMax    int      // largest chunk it takes; 0: fixed-size chunks only
	Throughput  float64  // iterations per second it measured; 0: unknown
	Running     int      // chunks it holds now
	GrantedTo   []string // user ids granted use through nodes_permissions (access_type user)
	// Held is the iterations of the chunks it holds now; LastClaimed and
	// LastIterations are when the latest of them was given to it and its
	// size (zero without chunks).
	Held           int
	LastClaimed    time.Time
	LastIterations int
}

// Assignment gives work to a node. From a pending row (ChunkID): the whole
// row, or with Iterations between 1 and fewer than it holds, its first
// Iterations (the rest of its range becomes a new pending row). From a
// job's unassigned rest (ChunkID empty, JobID set): a new chunk of
// Iterations carved from the start of the rest (fewer when less is left);
// the store names it, and answers its id in ChunkID.
type Assignment struct {
	ChunkID    string
	JobID      string
	NodeID     string
	Iterations int
}

// Planner decides assignments for the locked pending work (rows first,
// oldest first, then the rests of jobs, oldest job first) and the locked
// online nodes. It runs inside the store's transaction and must not call
// the store.
type Planner func(chunks []PendingChunk, nodes []NodeLoad) []Assignment

// Completion records a chunk's result.
type Completion struct {
	ChunkID string
	NodeID  string // the node reporting it; becomes the chunk's node
	Result  protocol.ChunkResult
	Now     time.Time
}

// Aggregator turns the results of all chunks of a job into the job's result.
// It runs inside the store's transaction and must not call the store.
type Aggregator func(results []protocol.ChunkResult) protocol.JobResult

// Merge decodes the stored results of a job's chunks and returns the job's
// result, encoded for jobs.result.
func (a Aggregator) Merge(raw []json.RawMessage) (json.RawMessage, error) {
	results := make([]protocol.ChunkResult, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &results[i]); err != nil {
			return nil, fmt.Errorf("decode chunk result: %w", err)
		}
	}
	out, err := json.Marshal(a(results))
	if err != nil {
		return nil, fmt.Errorf("encode job result: %w", err)
	}
	return out, nil
}

// CompletionOutcome says what a completion changed.
type CompletionOutcome struct {
	Applied     bool   // false when the chunk was already completed or failed
	ChunkStatus string // the chunk's status after the call
	JobComplete bool   // the job is completed (now or before)
	Job         Job    // the job after the call
}

// Requeue puts a running chunk back to pending. It applies only while NodeID
// holds the chunk.
type Requeue struct {
	ChunkID      string
	NodeID       string
	CountAttempt bool   // a failure (true) or a hand-back (false)
	Error        string // recorded as last_error when not empty
}

// Failure marks a running chunk and its job failed. It applies only while
// NodeID holds the chunk.
type Failure struct {
	ChunkID string
	NodeID  string
	Error   string
	Now     time.Time
}

// Counts are the numbers /status and the metrics show.
type Counts struct {
	NodesOnline   int
	ChunksPending int
	ChunksRunning int
}

// Readable reports whether Store.ReadRows serves table: the tables whose
// changes the feed reports.
func Readable(table string) bool {
	switch table {
	case "nodes", "jobs", "jobs_chunks":
		return true
	}
	return false
}

// Store is the sentinel's persistence. Every method is safe for concurrent
// use by any number of instances sharing the database.
type Store interface {
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// CheckSchema returns ErrNotMigrated (wrapped with the versions) when the
	// schema is not the one this binary was built for.
	CheckSchema(ctx context.Context) error
	// Migrate brings the schema up to date; safe to run concurrently.
	Migrate(ctx context.Context) error

	// CreateUser stores a new user.
	CreateUser(ctx context.Context, u User) error
	// UserByID returns a user or ErrNotFound.
	UserByID(ctx context.Context, id string) (User, error)
	// UserByTokenHash returns the user owning a token or ErrNotFound.
	UserByTokenHash(ctx context.Context, hash string) (User, error)

	// RegisterNode returns the node with n.PublicKey, inserting it when new;
	// created tells which. An existing node gets u applied.
	RegisterNode(ctx context.Context, n NewNode, u NodeUpdate) (node Node, created bool, err error)
	// NodeByID returns a node or ErrNotFound.
	NodeByID(ctx context.Context, id string) (Node, error)
	// NodeByPublicKey returns a node or ErrNotFound.
	NodeByPublicKey(ctx context.Context, key string) (Node, error)
	// NodeByClaimCode returns the unclaimed node with a claim code or ErrNotFound.
	NodeByClaimCode(ctx context.Context, code string) (Node, error)
	// ClaimNode gives an unclaimed node to a user, clearing its claim code
	// and its claim checks. ErrConflict when it is already claimed,
	// ErrNotFound when unknown.
	ClaimNode(ctx context.Context, c Claim) (Node, error)
	// RecordClaimCheck stores (or extends) a user's claim check of a node.
	RecordClaimCheck(ctx context.Context, c ClaimCheck) error
	// ClaimCheckExpiry returns when a user's claim check of a node expires,
	// or ErrNotFound when there is none.
	ClaimCheckExpiry(ctx context.Context, nodeID, userID string) (time.Time, error)
	// ListNodes returns every node, newest first.
	ListNodes(ctx context.Context) ([]Node, error)
	// UpdateNode applies an owner's change to a node of c.UserID and
	// returns it; ErrNotFound when the node is not that user's.
	UpdateNode(ctx context.Context, c NodeChange) (Node, error)
	// DeleteNode removes a node of userID; its running chunks go back to
	// pending (no attempt counted). ErrNotFound when it is not that user's.
	DeleteNode(ctx context.Context, nodeID, userID string) error
	// GrantNode lets another user's jobs of access type user use a node.
	GrantNode(ctx context.Context, nodeID, accessType, targetID string) error
	// TouchNodes records that claimed nodes are alive at now and sets them
	// online; it returns the ids of those that were not online before.
	TouchNodes(ctx context.Context, ids []string, now time.Time) (cameOnline []string, err error)
	// SetNodeCapacity records the capacity a node reported (nil: none) and
	// reports whether it changed.
	SetNodeCapacity(ctx context.Context, id string, capacity *int) (bool, error)
	// SetNodeChunks records a node's sized-chunk offer (0, 0: none).
	SetNodeChunks(ctx context.Context, id string, chunkMax int, throughput float64) error
	// MarkNodeOffline sets one online node offline (a node saying it is
	// shutting down) and reports whether it was online.
	MarkNodeOffline(ctx context.Context, id string) (bool, error)
	// MarkNodesOffline sets online nodes last seen before a time offline and
	// returns their ids.
	MarkNodesOffline(ctx context.Context, seenBefore time.Time) ([]string, error)
	// DeleteStaleNodes removes unclaimed pending nodes created before one
	// time and offline nodes last seen before another.
	DeleteStaleNodes(ctx context.Context, unclaimedBefore, offlineBefore time.Time) (int, error)

	// CreateJob stores a job, its chunks and (upserting) its config.
	// ErrNotFound when the job names a config that is not stored.
	CreateJob(ctx context.Context, j NewJob) error
	// CancelJob fails a pending or running job of c.UserID and its
	// unfinished chunks with c.Error; false when the job had already ended.
	// ErrNotFound when the job is not that user's.
	CancelJob(ctx context.Context, c Cancel) (bool, error)
	// JobByID returns a job or ErrNotFound.
	JobByID(ctx context.Context, id string) (Job, error)
	// ReadRows returns rows of nodes, jobs or jobs_chunks as JSON objects
	// with their column names, by id. Ids that name no row, or are not
	// UUIDs, are absent from the map.
	ReadRows(ctx context.Context, table string, ids []string) (map[string]json.RawMessage, error)
	// Select returns the rows of q.Table that q.Access may read, filtered,
	// ordered and paged as q says, as a JSON array of objects holding the
	// columns in q's order with PostgreSQL's json shapes: uuid, text and
	// timestamptz (RFC 3339 in UTC, "+00:00", fraction without trailing
	// zeros) as strings, integers as numbers, bool as true/false, jsonb and
	// uuid[] embedded, NULL as null. A query the table does not support (an
	// unknown table or column, a value that does not parse as its column's
	// type) is a *QueryError.
	Select(ctx context.Context, q Query) (json.RawMessage, error)
	// DeleteUnusedConfigs removes configs last used before a time that no
	// job references.
	DeleteUnusedConfigs(ctx context.Context, lastUsedBefore time.Time) (int, error)

	// CreateRotation stores a rotation; the database computes its checksum.
	CreateRotation(ctx context.Context, r Rotation) error
	// UpdateRotation applies an owner's change to a rotation of c.UserID;
	// ErrNotFound when it is not that user's.
	UpdateRotation(ctx context.Context, c RotationChange) error
	// DeleteRotation removes a rotation of userID; ErrNotFound when it is
	// not that user's.
	DeleteRotation(ctx context.Context, id, userID string) error

	// ChunkByID returns a chunk or ErrNotFound.
	ChunkByID(ctx context.Context, id string) (Chunk, error)
	// AssignPending locks up to limit pending chunks of unfinished jobs that
	// no other instance has locked, and the unassigned rests of up to limit
	// such jobs, and every claimed online node, asks plan what goes where,
	// and applies its answer: rows split or carved as the assignments say,
	// node_id, status running, claimed_at now, and the job running. Each row
	// is applied once; a job's rest is carved in the order asked.
	AssignPending(ctx context.Context, limit int, now time.Time, plan Planner) ([]Assignment, error)
	// CompleteChunks records results, in one transaction: each unless its
	// chunk is already completed or failed, adding its iterations to the
	// job and, when it was the last chunk, storing aggregate's result and
	// completing the job, exactly once. The outcomes are in the order of cs,
	// each with its job as the whole batch left it.
	// A chunk named twice is applied once (the second is a repeat).
	CompleteChunks(ctx context.Context, cs []Completion, aggregate Aggregator) ([]CompletionOutcome, error)
	// RequeueChunk puts a chunk back to pending; false when r.NodeID does not
	// hold it running.
	RequeueChunk(ctx context.Context, r Requeue) (bool, error)
	// FailChunk fails a chunk, its job and the job's unfinished chunks; false
	// when f.NodeID does not hold it running.
	FailChunk(ctx context.Context, f Failure) (bool, error)
	// ReclaimSilent puts running chunks of nodes last seen before a time back
	// to pending and returns their ids.
	ReclaimSilent(ctx context.Context, seenBefore time.Time) ([]string, error)
	// OverdueChunks returns running chunks claimed before one time whose
	// node was last seen at or after another, oldest claim first.
	OverdueChunks(ctx context.Context, claimedBefore, seenSince time.Time) ([]Chunk, error)
	// OnlineNodes returns every claimed online node with its owner and the
	// users granted its use (NodeLoad's ID, UserID and GrantedTo), for
	// telling a user why no node takes a job.
	OnlineNodes(ctx context.Context) ([]NodeLoad, error)
	// Counts returns online nodes and pending and running chunks.
	Counts(ctx context.Context) (Counts, error)

	// RememberSignature records a request signature until it expires,
	// reports whether it was new and reads the node of its key, in one
	// round trip: the whole of what a signed request costs the store
	// before its handler runs.
	RememberSignature(ctx context.Context, s Signature) (Signer, error)
	// PruneSignatures forgets signatures expired before now.
	PruneSignatures(ctx context.Context, now time.Time) error

	// RunExclusive runs fn when no other instance runs the task name and it
	// last ran at least every ago; ran tells whether fn ran.
	RunExclusive(ctx context.Context, name string, every time.Duration, now time.Time, fn func(context.Context) error) (ran bool, err error)

	// Subscribe returns a subscription to the change feed, pending-chunk
	// notifications and resets (see Notification). Close it when done.
	Subscribe(buffer int) *Subscription
}
