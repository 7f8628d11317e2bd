package protocol

import (
	"fmt"
	"math"
)

// Paths of the node API (PROTOCOL section 3), relative to the sentinel URL.
const (
	PathRegister  = "/nodes/register"
	PathVerify    = "/nodes/verify"
	PathHeartbeat = "/nodes/heartbeat"
	PathToken     = "/nodes/token"
	PathComplete  = "/chunks/complete"
	PathFail      = "/chunks/fail"
	PathRelease   = "/chunks/release"
	// PathBootstrap (extension, GET, public) tells a node given only the
	// sentinel's address what else it needs: Bootstrap.
	PathBootstrap = "/bootstrap"
)

// Node statuses as stored in nodes.status.
const (
	NodePending = "pending"
	NodeOnline  = "online"
	NodeOffline = "offline"
)

// Chunk and job statuses as stored in jobs_chunks.status and jobs.status.
const (
	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
)

// ChunkSize is the number of iterations in the chunks of a node that
// announces no ChunkOffer (the last chunk of a job may hold fewer), and
// the least a sized chunk holds.
const ChunkSize = 1000

// MaxChunkIterations bounds the largest chunk a node may offer to take.
const MaxChunkIterations = 1_000_000_000

// ChunkOffer (extension) announces, with registration and heartbeats, that
// a node takes chunks sized to it: of ChunkSize to MaxIterations
// iterations, each run on all its workers at once, and that it measured
// Throughput iterations per second over all its workers (0: not yet). The
// sentinel sizes each assignment to take it a target time. A node without
// it is given chunks of ChunkSize, as the protocol has them.
type ChunkOffer struct {
	MaxIterations int     `json:"maxIterations"`
	Throughput    float64 `json:"throughput"`
}

// MaxThroughput bounds the throughput a node may announce, iterations per
// second: far beyond any machine's.
const MaxThroughput = 1e9

// MaxChunkAttempts is how many failed attempts a chunk gets before it and
// its job are marked failed.
const MaxChunkAttempts = 3

// RegisterRequest is the body of POST /nodes/register.
type RegisterRequest struct {
	Hostname     string `json:"hostname"`
	TotalCores   int    `json:"totalCores"`
	EnabledCores int    `json:"enabledCores"`
	Platform     string `json:"platform"`
	Version      string `json:"version"`
	// Chunks (extension): the node takes sized chunks.
	Chunks *ChunkOffer `json:"chunks,omitempty"`
}

// RegisterResponse answers POST /nodes/register.
type RegisterResponse struct {
	ID        string `json:"id"`
	ClaimCode string `json:"claimCode"`
	Claimed   bool   `json:"claimed"`
}

// NodeInfo answers POST /nodes/verify and POST /nodes/heartbeat. Claimed is
// always true on verify and absent on heartbeat.
type NodeInfo struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	MaxParallel int    `json:"maxParallel"`
	Status      string `json:"status"`
	Claimed     bool   `json:"claimed,omitempty"`
}

// HeartbeatRequest is the body of POST /nodes/heartbeat. Status is
// "online"; extension: a node shutting down sends "offline" once, so it is
// given no new work while it finishes and hands back what it holds.
//
// Capacity (extension) is how many chunks at once the node takes now: the
// workers it runs, 0 while it is paused or finishing. The sentinel assigns
// a node at most that many (plus their queue), never more than
// min(max_parallel, total cores); a heartbeat without it, as an original
// node sends, sets no limit beyond those. A sentinel that does not know the
// field ignores it.
//
// Chunks (extension) renews the node's sized-chunk offer and its
// throughput; a heartbeat without it takes the offer back.
type HeartbeatRequest struct {
	Status   string      `json:"status"`
	Capacity *int        `json:"capacity,omitempty"`
	Chunks   *ChunkOffer `json:"chunks,omitempty"`
}

// Bootstrap answers GET /bootstrap (extension): the REST and Realtime base
// URL and the anon key the sentinel expects, and the page where a user
// enters a node's claim code (ClaimURL?code=CODE).
type Bootstrap struct {
	APIURL   string `json:"apiUrl"`
	AnonKey  string `json:"anonKey"`
	ClaimURL string `json:"claimUrl"`
}

// TokenResponse answers POST /nodes/token.
type TokenResponse struct {
	Token     string `json:"token"`
	ExpiresAt int64  `json:"expiresAt"`
}

// CompleteRequest is the body of POST /chunks/complete.
type CompleteRequest struct {
	ChunkID string      `json:"chunkId"`
	Result  ChunkResult `json:"result"`
}

// CompleteResponse answers POST /chunks/complete.
type CompleteResponse struct {
	Success          bool `json:"success"`
	JobComplete      bool `json:"jobComplete"`
	AlreadyCompleted bool `json:"alreadyCompleted,omitempty"`
}

// FailRequest is the body of POST /chunks/fail.
type FailRequest struct {
	ChunkID string `json:"chunkId"`
	Error   string `json:"error"`
}

// FailResponse answers POST /chunks/fail.
type FailResponse struct {
	Requeued bool `json:"requeued"`
}

// ReleaseRequest is the body of POST /chunks/release.
type ReleaseRequest struct {
	ChunkID string `json:"chunkId"`
}

// ReleaseResponse answers POST /chunks/release.
type ReleaseResponse struct {
	Released bool `json:"released"`
}

// ErrorResponse is the body of every node API refusal.
type ErrorResponse struct {
	Error string `json:"error"`
}

// Validate reports why an offer cannot be accepted, or nil.
func (o ChunkOffer) Validate() error {
	switch {
	case o.MaxIterations < ChunkSize || o.MaxIterations > MaxChunkIterations:
		return fmt.Errorf("chunks.maxIterations must be between %d and %d", ChunkSize, MaxChunkIterations)
	case math.IsNaN(o.Throughput) || o.Throughput < 0 || o.Throughput > MaxThroughput:
		return fmt.Errorf("chunks.throughput must be between 0 and %g iterations per second", float64(MaxThroughput))
	}
	return nil
}
