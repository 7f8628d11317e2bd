// Package server assembles a running sentinel: the service (node API,
// scheduler, liveness), the gateway (REST subset and Realtime), the web
// console and the HTTP listener, on any store. `sentinel serve` runs one on PostgreSQL or
// SQLite; `sentinel dev` runs one inside a whole in-process cluster.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"wowlab/sentinel"
	"wowlab/sentinel/console"
	"wowlab/sentinel/gateway"
	"wowlab/sentinel/store"
)

// Config configures a Server.
type Config struct {
	// Store persists everything. Required; it must be migrated.
	Store store.Store
	// Listen runs the store's change notifications until its context ends
	// (PostgreSQL's LISTEN loop); nil for stores that publish in process.
	Listen func(ctx context.Context) error
	// JWTSecret signs tokens. Required, at least 32 bytes.
	JWTSecret []byte
	// ChunkTimeout, ChunkTarget, OfflineAfter and ReclaimAfter are passed
	// to the service; zero picks its defaults.
	ChunkTimeout, ChunkTarget, OfflineAfter, ReclaimAfter time.Duration
	// ClaimChecksPerUser, ClaimChecksPerAddress, RegistrationsPerAddress,
	// ClientIPHeader and MaxBodyMemory are passed to the service (see
	// sentinel.Config); zero picks its defaults.
	ClaimChecksPerUser, ClaimChecksPerAddress, RegistrationsPerAddress sentinel.Rate
	ClientIPHeader                                                     string
	MaxBodyMemory                                                      int64
	// PublicURL is the base URL GET /bootstrap publishes (sentinel.Config).
	PublicURL string
	// Realtime bounds Realtime clients (gateway.Limits); zero fields take
	// gateway.DefaultLimits.
	Realtime gateway.Limits
	// HTTP bounds connections and requests; zero fields take
	// DefaultLimits.
	HTTP Limits
	// Clock tells the service and the console the time; the system clock
	// when nil. Tests move it to expire sessions and tokens.
	Clock sentinel.Clock
	// Logger receives structured logs; discarded when nil.
	Logger *slog.Logger
}

// Limits bound what clients may cost the HTTP server.
type Limits struct {
	// ReadHeaderTimeout bounds reading a request's headers, ReadTimeout the
	// whole request with its body, WriteTimeout the answer, IdleTimeout a
	// kept-alive connection between requests. Realtime sockets outlive
	// them: their heartbeat and write timeouts bound them instead.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes int
	// MaxConnections caps the connections open at once, Realtime sockets
	// included; over it a connection is answered 503 with Retry-After.
	// When zero, DefaultMaxConnections, lowered to stay within the
	// process's open-file limit.
	MaxConnections int
	// StatusReserve is how many connections beyond MaxConnections are kept
	// for GET /status.
	StatusReserve int
}

// DefaultMaxConnections is the connection cap when none is set.
const DefaultMaxConnections = 10_000

// fileReserve is how many open files the cap leaves to everything else
// (database connections, logs, the store's files).
const fileReserve = 256

// DefaultLimits returns the limits used for zero fields.
func DefaultLimits() Limits {
	return Limits{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		MaxConnections:    DefaultMaxConnections,
		StatusReserve:     16,
	}
}

// withDefaults fills zero fields; an unset connection cap is fitted to
// the open-file limit, when known.
func (l Limits) withDefaults(log *slog.Logger) Limits {
	d := DefaultLimits()
	for _, f := range []struct{ set, def *time.Duration }{
		{&l.ReadHeaderTimeout, &d.ReadHeaderTimeout}, {&l.ReadTimeout, &d.ReadTimeout},
		{&l.WriteTimeout, &d.WriteTimeout}, {&l.IdleTimeout, &d.IdleTimeout},
	} {
		if *f.set <= 0 {
			*f.set = *f.def
		}
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	if l.StatusReserve <= 0 {
		l.StatusReserve = d.StatusReserve
	}
	files, known := openFileLimit()
	fits := func(n int) bool { return !known || uint64(n+l.StatusReserve+fileReserve) <= files }
	switch {
	case l.MaxConnections <= 0 && fits(d.MaxConnections):
		l.MaxConnections = d.MaxConnections
	case l.MaxConnections <= 0:
		l.MaxConnections = max(int(files)-l.StatusReserve-fileReserve, 16)
		log.Warn("connection cap lowered to fit the open-file limit; raise the limit (ulimit -n) for more",
			"max_connections", l.MaxConnections, "open_file_limit", files)
	case !fits(l.MaxConnections):
		log.Warn("the connection cap is above what the open-file limit allows: past it, accept fails instead of answering 503",
			"max_connections", l.MaxConnections, "open_file_limit", files)
	}
	return l
}

// Server is a sentinel serving HTTP on a listener.
type Server struct {
	svc  *sentinel.Service
	http *http.Server
	ln   net.Listener
	log  *slog.Logger

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	done    chan struct{} // closed when the listener stops serving
	serveMu sync.Mutex
	served  error
}

// Start builds the service and gateway on cfg.Store and serves them on ln
// until Shutdown.
func Start(cfg Config, ln net.Listener) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	svc, err := sentinel.New(sentinel.Config{
		Store: cfg.Store, JWTSecret: cfg.JWTSecret, Logger: cfg.Logger,
		ChunkTimeout: cfg.ChunkTimeout, ChunkTarget: cfg.ChunkTarget, OfflineAfter: cfg.OfflineAfter, ReclaimAfter: cfg.ReclaimAfter,
		ClaimChecksPerUser: cfg.ClaimChecksPerUser, ClaimChecksPerAddress: cfg.ClaimChecksPerAddress,
		RegistrationsPerAddress: cfg.RegistrationsPerAddress, ClientIPHeader: cfg.ClientIPHeader,
		MaxBodyMemory: cfg.MaxBodyMemory, Clock: cfg.Clock, PublicURL: cfg.PublicURL,
	})
	if err != nil {
		return nil, err
	}
	// The gateway subscribes to the change feed in New, before the feed's
	// listener starts, so no change is missed.
	gw, err := gateway.New(gateway.Config{Service: svc, Store: cfg.Store, Logger: cfg.Logger, Limits: cfg.Realtime})
	if err != nil {
		return nil, err
	}
	con, err := console.New(console.Config{Service: svc, Store: cfg.Store, Secret: cfg.JWTSecret, Clock: cfg.Clock, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	svc.Routes(mux)
	gw.Routes(mux)
	con.Routes(mux)
	lim := cfg.HTTP.withDefaults(cfg.Logger)
	ln = newCapListener(ln, lim.MaxConnections, lim.StatusReserve, cfg.Logger)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		svc: svc,
		http: &http.Server{Handler: mux, ReadHeaderTimeout: lim.ReadHeaderTimeout, ReadTimeout: lim.ReadTimeout,
			WriteTimeout: lim.WriteTimeout, IdleTimeout: lim.IdleTimeout, MaxHeaderBytes: lim.MaxHeaderBytes,
			ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)},
		ln:     ln,
		log:    cfg.Logger,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	// The console's event streams never go idle: they end at shutdown.
	s.http.RegisterOnShutdown(con.Close)
	s.wg.Go(func() { _ = gw.Run(ctx) })
	if cfg.Listen != nil {
		s.wg.Go(func() { _ = cfg.Listen(ctx) })
	}
	s.wg.Go(func() { _ = svc.Run(ctx) })
	s.wg.Go(func() {
		err := s.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.serveMu.Lock()
		s.served = err
		s.serveMu.Unlock()
		close(s.done)
	})
	return s, nil
}

// Done is closed when the server stops serving: after Shutdown, or when
// the listener fails (Shutdown then returns why).
func (s *Server) Done() <-chan struct{} { return s.done }

// Service is the running service, for in-process callers.
func (s *Server) Service() *sentinel.Service { return s.svc }

// URL is the base URL of the listener, with 127.0.0.1 for an unspecified
// address.
func (s *Server) URL() string {
	addr := s.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return fmt.Sprintf("http://%s", net.JoinHostPort(host, fmt.Sprint(addr.Port)))
}

// Shutdown stops accepting requests, lets running ones finish until ctx
// ends, and stops the background loops. It returns the listener's error,
// if serving failed.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	s.cancel()
	s.wg.Wait()
	s.serveMu.Lock()
	defer s.serveMu.Unlock()
	return errors.Join(s.served, err)
}
