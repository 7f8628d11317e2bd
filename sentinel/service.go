// Package sentinel is the coordinator of simulation nodes: the business
// rules behind the node API (PROTOCOL.md sections 2-3), job creation and
// claiming, the scheduler, node liveness, chunk reclaim and aggregation, and
// their HTTP handlers. Persistence and change notification come from a
// store.Store; every rule is here, in Go.
//
// A Service is stateless apart from its store (and an in-memory replay
// cache and the set of nodes whose realtime presence this instance holds),
// so any number of instances may share one database.
package sentinel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"wowlab/engine/rotation"
	"wowlab/protocol"
	"wowlab/sentinel/store"
)

// Clock tells the time; tests inject a controllable one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// Timing rules. The liveness limits and the chunk time limit can be
// changed per service (Config); the others are fixed.
const (
	// DefaultOfflineAfter is how long a node may stay silent (no heartbeat,
	// no presence) before it is marked offline.
	DefaultOfflineAfter = 30 * time.Second
	// DefaultReclaimAfter is how long a node may stay silent before its
	// running chunks go back to pending.
	DefaultReclaimAfter = 60 * time.Second
	// SweepInterval is how often the scheduler looks at every pending chunk
	// even without notifications.
	SweepInterval = 30 * time.Second
	// LivenessInterval is how often liveness and reclaim rules run, at
	// most; shorter when OfflineAfter is short.
	LivenessInterval = 5 * time.Second
	// PresenceTouchInterval is how often nodes holding realtime presence on
	// this instance have last_seen_at refreshed, at most; shorter when
	// OfflineAfter is short.
	PresenceTouchInterval = 10 * time.Second
	// MaintenanceInterval is how often stale rows are removed (once across
	// all instances).
	MaintenanceInterval = time.Hour
	// UnclaimedNodeTTL is how long an unclaimed registration, and so its
	// claim code, is valid: after it the code is refused and the node is
	// told it is not found, so it registers again, which renews the code.
	UnclaimedNodeTTL = time.Hour
	// ClaimCheckTTL is how long after a user checked a claim code
	// (verify_claim_code) that user may claim the node by its id alone.
	ClaimCheckTTL = 10 * time.Minute
	// OfflineNodeTTL is how long an offline node is kept.
	OfflineNodeTTL = 30 * 24 * time.Hour
	// UnusedConfigTTL is how long an unreferenced config is kept.
	UnusedConfigTTL = 7 * 24 * time.Hour
	// TokenTTL is the lifetime of a node token.
	TokenTTL = time.Hour
	// DefaultChunkTimeout is the default hard limit on one chunk's run.
	DefaultChunkTimeout = 30 * time.Minute
	// DefaultChunkTarget is how long a sized chunk should take its node.
	DefaultChunkTarget = 15 * time.Second
	// scheduleBatch is how many pending chunks one scheduling pass locks.
	scheduleBatch = 1000
	// passAssignments is how many assignments one scheduling pass makes at
	// most. A pass reads the load of every online node, so a fleet taking
	// a new job is fed in few passes: chunks carved from a job's range are
	// written in bulk.
	passAssignments = 10 * scheduleBatch
)

// Config configures a Service.
type Config struct {
	// Store persists everything. Required.
	Store store.Store
	// JWTSecret signs node tokens (HS256). Required, at least 32 bytes.
	JWTSecret []byte
	// ChunkTimeout is the hard limit on a running chunk; DefaultChunkTimeout
	// when zero.
	ChunkTimeout time.Duration
	// ChunkTarget is how long a sized chunk should take the node it is
	// given to (ChunkIterations); DefaultChunkTarget when zero.
	ChunkTarget time.Duration
	// OfflineAfter and ReclaimAfter are the liveness limits;
	// DefaultOfflineAfter and DefaultReclaimAfter when zero. Shorter limits
	// notice failures sooner (tests, small clusters on a LAN).
	OfflineAfter, ReclaimAfter time.Duration
	// ClaimChecksPerUser and ClaimChecksPerAddress limit how many claim
	// codes one user and one address may try (verify_claim_code and claims
	// by code); RegistrationsPerAddress limits new node registrations per
	// address. The defaults (DefaultClaimChecksPerUser...) when zero.
	ClaimChecksPerUser, ClaimChecksPerAddress, RegistrationsPerAddress Rate
	// ClientIPHeader names the header a reverse proxy in front of the
	// sentinel puts the client's address in (X-Forwarded-For, X-Real-IP),
	// for the per-address limits. Empty: the connection's address. Set it
	// only behind a proxy that sets the header, or clients choose their
	// address.
	ClientIPHeader string
	// MaxBodyMemory bounds the bytes of request bodies held at once across
	// every request (ReadBody); DefaultMaxBodyMemory when zero.
	MaxBodyMemory int64
	// PublicURL is the sentinel's base URL as nodes and users reach it,
	// published by GET /bootstrap; empty: the scheme and Host of each
	// request.
	PublicURL string
	// Clock tells the time; SystemClock when nil.
	Clock Clock
	// Logger receives structured logs; discarded when nil.
	Logger *slog.Logger
}

// Service is the sentinel's business logic. Its methods are safe for
// concurrent use.
type Service struct {
	publicURL    string
	store        store.Store
	secret       []byte
	chunkTimeout time.Duration
	chunkTarget  time.Duration
	offlineAfter time.Duration
	reclaimAfter time.Duration
	clock        Clock
	log          *slog.Logger
	metrics      *Metrics
	completions  *groupCommit // chunk results, written in batches
	started      time.Time

	kick chan struct{} // wakes the scheduler loop; capacity 1

	mu            sync.Mutex
	present       map[string]int // node id -> presences held on this instance
	lastSchedule  time.Time
	lastPresTouch time.Time
	watchStart    time.Time // start of the liveness passes without a gap or a store error
	lastWatch     time.Time // the last such pass; zero after a store error

	replay *replayCache

	clientIPHeader     string
	claimChecksByUser  *keyedLimiter
	claimChecksByAddr  *keyedLimiter
	registrationsByAdr *keyedLimiter
	bodies             *bodyBudget
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("sentinel: a store is required")
	}
	if len(cfg.JWTSecret) < 32 {
		return nil, errors.New("sentinel: the JWT secret must be at least 32 bytes")
	}
	if cfg.ChunkTimeout == 0 {
		cfg.ChunkTimeout = DefaultChunkTimeout
	}
	if cfg.ChunkTimeout < time.Minute {
		return nil, fmt.Errorf("sentinel: chunk timeout %v is shorter than a minute", cfg.ChunkTimeout)
	}
	if cfg.ChunkTarget == 0 {
		cfg.ChunkTarget = DefaultChunkTarget
	}
	if cfg.ChunkTarget < time.Second || cfg.ChunkTarget > cfg.ChunkTimeout/2 {
		return nil, fmt.Errorf("sentinel: chunk target %v: at least 1s and at most half the chunk timeout %v", cfg.ChunkTarget, cfg.ChunkTimeout)
	}
	if cfg.OfflineAfter == 0 {
		cfg.OfflineAfter = DefaultOfflineAfter
	}
	if cfg.ReclaimAfter == 0 {
		cfg.ReclaimAfter = DefaultReclaimAfter
	}
	if cfg.OfflineAfter < time.Second || cfg.ReclaimAfter < cfg.OfflineAfter {
		return nil, fmt.Errorf("sentinel: liveness limits offline %v, reclaim %v: both at least 1s, reclaim not before offline", cfg.OfflineAfter, cfg.ReclaimAfter)
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyMemory == 0 {
		cfg.MaxBodyMemory = DefaultMaxBodyMemory
	}
	if cfg.MaxBodyMemory < protocol.MaxBodyBytes {
		return nil, fmt.Errorf("sentinel: the body memory %d is less than one node request may take (%d bytes)", cfg.MaxBodyMemory, protocol.MaxBodyBytes)
	}
	for _, r := range []struct {
		rate *Rate
		def  Rate
	}{{&cfg.ClaimChecksPerUser, DefaultClaimChecksPerUser}, {&cfg.ClaimChecksPerAddress, DefaultClaimChecksPerAddress},
		{&cfg.RegistrationsPerAddress, DefaultRegistrationsPerAddress}} {
		if *r.rate == (Rate{}) {
			*r.rate = r.def
		}
		if r.rate.N < 1 || r.rate.Per <= 0 {
			return nil, fmt.Errorf("sentinel: rate %v: at least one event per positive period", *r.rate)
		}
	}
	publicURL := strings.TrimRight(cfg.PublicURL, "/")
	if publicURL != "" {
		if u, err := url.Parse(publicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("sentinel: public URL %q is not an http(s) URL without query", cfg.PublicURL)
		}
	}
	metrics := newMetrics()
	return &Service{
		publicURL:    publicURL,
		store:        cfg.Store,
		secret:       append([]byte(nil), cfg.JWTSecret...),
		chunkTimeout: cfg.ChunkTimeout,
		chunkTarget:  cfg.ChunkTarget,
		offlineAfter: cfg.OfflineAfter,
		reclaimAfter: cfg.ReclaimAfter,
		clock:        cfg.Clock,
		log:          cfg.Logger,
		metrics:      metrics,
		started:      cfg.Clock.Now(),
		kick:         make(chan struct{}, 1),
		present:      make(map[string]int),
		replay:       newReplayCache(),
		completions: &groupCommit{write: func(ctx context.Context, cs []store.Completion) ([]store.CompletionOutcome, error) {
			return cfg.Store.CompleteChunks(ctx, cs, aggregate)
		}},

		clientIPHeader:     cfg.ClientIPHeader,
		claimChecksByUser:  newKeyedLimiter(cfg.ClaimChecksPerUser),
		claimChecksByAddr:  newKeyedLimiter(cfg.ClaimChecksPerAddress),
		registrationsByAdr: newKeyedLimiter(cfg.RegistrationsPerAddress),
		bodies:             &bodyBudget{max: cfg.MaxBodyMemory, gauge: metrics.bodyBytes},
	}, nil
}

// Kind classifies a refusal so each surface can map it to its own status.
type Kind int

// Kinds of Error.
const (
	KindInvalid      Kind = iota + 1 // bad input: 400
	KindUnauthorized                 // no or bad credentials: 401
	KindForbidden                    // not yours: 403
	KindNotFound                     // no such thing: 404
	KindConflict                     // wrong state: 409 (400 on the node API)
	KindTooMany                      // over a rate limit: 429 with Retry-After
)

// Error is a refusal with a message meant for the caller.
type Error struct {
	Kind    Kind
	Message string
	// RetryAfter says when to try again, for KindTooMany.
	RetryAfter time.Duration
	// Problems are the engine's problems of a refused rotation script,
	// each with its JSON path.
	Problems rotation.Problems
}

func (e *Error) Error() string { return e.Message }

func refuse(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the Kind of err, or 0 for an internal error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// Kick asks the scheduler loop for a pass soon. It never blocks.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run runs the background work of one instance until ctx ends: consuming
// store notifications, the scheduler (on notifications, kicks and every
// SweepInterval), liveness and reclaim (every LivenessInterval) and the
// hourly maintenance. Run the store's listener (store.Postgres.Listen)
// alongside.
func (s *Service) Run(ctx context.Context) error {
	sub := s.store.Subscribe(4096)
	defer sub.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case n, ok := <-sub.C:
				if !ok {
					return
				}
				if n.Kind == store.KindPendingChunk || n.Kind == store.KindReset {
					s.Kick()
				}
			}
		}
	})
	wg.Go(func() { s.scheduleLoop(ctx) })
	wg.Go(func() { s.every(ctx, min(LivenessInterval, s.offlineAfter/3), s.Liveness, "liveness") })
	wg.Go(func() { s.every(ctx, time.Minute, s.Maintenance, "maintenance") })
	<-ctx.Done()
	return nil
}

func (s *Service) every(ctx context.Context, d time.Duration, fn func(context.Context) error, what string) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			s.log.Error(what+" failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) scheduleLoop(ctx context.Context) {
	t := time.NewTicker(SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
		if _, err := s.Schedule(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("scheduling failed", "err", err)
		}
	}
}
