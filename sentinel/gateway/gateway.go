// Package gateway is the sentinel's Supabase-compatible surface
// (PROTOCOL.md sections 5 and 6): a PostgREST subset under /rest/v1 and a
// Supabase Realtime server (Phoenix channels) under /realtime/v1/websocket.
//
// Every request carries the anon key as apikey; the bearer token (REST) or
// the join's access_token (Realtime) says who the caller is, through the
// service's one authentication path (sentinel.Service.Authenticate), and so
// which rows it may see. Business calls (create_job, verify_claim_code,
// claim_node) go through the service; table reads are parsed here against
// a column whitelist and run by the store (store.Store.Select), which
// applies the row access rules; row changes come from the store's
// change feed, so a change made through any instance reaches the sockets of
// every instance.
package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"wowlab/sentinel"
	"wowlab/sentinel/store"
)

// Limits bound what one client may cost the gateway. Zero fields take the
// defaults of DefaultLimits.
type Limits struct {
	// HeartbeatTimeout drops a socket that sent nothing for this long.
	HeartbeatTimeout time.Duration
	// MaxFrameBytes is the largest frame a client may send.
	MaxFrameBytes int64
	// MaxChannelsPerSocket is how many topics one socket may join.
	MaxChannelsPerSocket int
	// MaxBindingsPerChannel is how many postgres_changes bindings one join
	// may ask for: each is authorized, some with a read of the store.
	MaxBindingsPerChannel int
	// MaxSocketsPerToken is how many sockets may hold channels joined with
	// one identity (a node, a user) on this instance.
	MaxSocketsPerToken int
	// MaxMessagesPerSecond is how many frames a socket may send per second
	// (a token bucket of this size); a socket sending faster is closed.
	MaxMessagesPerSecond int
	// SendQueueBytes is how many bytes of frames may wait to be written to
	// one socket, and SendQueueDelay how long the oldest may wait; a client
	// reading slower than that is disconnected (and the drop logged). A
	// client that keeps reading takes any burst.
	SendQueueBytes int
	SendQueueDelay time.Duration
	// WriteTimeout bounds one frame's write.
	WriteTimeout time.Duration
	// MaxPresenceBytes is the largest presence meta a client may track.
	MaxPresenceBytes int
	// PresenceChanges limits the presence tracks and untracks of one
	// socket; over it a change is refused, and nobody hears of it.
	PresenceChanges sentinel.Rate
}

// DefaultLimits returns the limits used for zero fields.
func DefaultLimits() Limits {
	return Limits{
		HeartbeatTimeout:      60 * time.Second,
		MaxFrameBytes:         64 << 10,
		MaxChannelsPerSocket:  100,
		MaxBindingsPerChannel: 32,
		MaxSocketsPerToken:    10,
		MaxMessagesPerSecond:  100,
		SendQueueBytes:        16 << 20,
		SendQueueDelay:        30 * time.Second,
		WriteTimeout:          10 * time.Second,
		MaxPresenceBytes:      1 << 10,
		PresenceChanges:       sentinel.Rate{N: 5, Per: 10 * time.Second},
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.HeartbeatTimeout > 0 {
		d.HeartbeatTimeout = l.HeartbeatTimeout
	}
	if l.MaxFrameBytes > 0 {
		d.MaxFrameBytes = l.MaxFrameBytes
	}
	if l.MaxChannelsPerSocket > 0 {
		d.MaxChannelsPerSocket = l.MaxChannelsPerSocket
	}
	if l.MaxBindingsPerChannel > 0 {
		d.MaxBindingsPerChannel = l.MaxBindingsPerChannel
	}
	if l.MaxSocketsPerToken > 0 {
		d.MaxSocketsPerToken = l.MaxSocketsPerToken
	}
	if l.MaxMessagesPerSecond > 0 {
		d.MaxMessagesPerSecond = l.MaxMessagesPerSecond
	}
	if l.SendQueueBytes > 0 {
		d.SendQueueBytes = l.SendQueueBytes
	}
	if l.SendQueueDelay > 0 {
		d.SendQueueDelay = l.SendQueueDelay
	}
	if l.WriteTimeout > 0 {
		d.WriteTimeout = l.WriteTimeout
	}
	if l.MaxPresenceBytes > 0 {
		d.MaxPresenceBytes = l.MaxPresenceBytes
	}
	if l.PresenceChanges.N > 0 && l.PresenceChanges.Per > 0 {
		d.PresenceChanges = l.PresenceChanges
	}
	return d
}

// Config configures a Gateway.
type Config struct {
	// Service authenticates callers and carries out the rpc calls. Required.
	Service *sentinel.Service
	// Store answers table reads and gives the change feed and the rows of
	// changes. Required.
	Store store.Store
	// Clock tells the time (token expiry); sentinel.SystemClock when nil.
	Clock sentinel.Clock
	// Logger receives structured logs; discarded when nil.
	Logger *slog.Logger
	// Limits bound clients; DefaultLimits() for zero fields.
	Limits Limits
}

// Gateway serves the REST subset and the Realtime server. Create it before
// the store's listener starts (it subscribes to the change feed in New) and
// run Run alongside.
type Gateway struct {
	svc    *sentinel.Service
	store  store.Store
	clock  sentinel.Clock
	log    *slog.Logger
	limits Limits
	schema schema

	sub   *store.Subscription
	hub   *hub
	ready chan struct{} // closed when the change feed is live
	once  sync.Once
}

// New returns a Gateway subscribed to the store's change feed.
func New(cfg Config) (*Gateway, error) {
	if cfg.Service == nil || cfg.Store == nil {
		return nil, errors.New("gateway: Service and Store are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = sentinel.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	g := &Gateway{
		svc: cfg.Service, store: cfg.Store, clock: cfg.Clock, log: cfg.Logger,
		limits: cfg.Limits.withDefaults(), schema: newSchema(),
		sub:   cfg.Store.Subscribe(1 << 16),
		ready: make(chan struct{}),
	}
	g.hub = newHub(g)
	return g, nil
}

// Ready is closed once the change feed is live (the store's listener has
// connected); changes committed before may not reach sockets.
func (g *Gateway) Ready() <-chan struct{} { return g.ready }

// Routes registers the gateway's routes on mux.
func (g *Gateway) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /rest/v1/{table}", g.serveSelect)
	mux.HandleFunc("HEAD /rest/v1/{table}", g.serveSelect)
	mux.HandleFunc("POST /rest/v1/rpc/{fn}", g.serveRPC)
	g.writeRoutes(mux)
	mux.HandleFunc("GET /realtime/v1/websocket", g.serveWebSocket)
}

// Handler returns the gateway's routes alone.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	g.Routes(mux)
	return mux
}

// Run delivers row changes to Realtime sockets until ctx ends, then closes
// every socket.
func (g *Gateway) Run(ctx context.Context) error {
	defer g.hub.closeAll()
	defer g.sub.Close()
	return g.hub.dispatch(ctx, g.sub)
}
