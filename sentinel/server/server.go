// Package server assembles a running sentinel: the service (node API,
// scheduler, liveness), the gateway (REST subset and Realtime) and the
// HTTP listener, on any store. `sentinel serve` runs one on PostgreSQL or
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
	// ChunkTimeout, OfflineAfter and ReclaimAfter are passed to the
	// service; zero picks its defaults.
	ChunkTimeout, OfflineAfter, ReclaimAfter time.Duration
	// Logger receives structured logs; discarded when nil.
	Logger *slog.Logger
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
		ChunkTimeout: cfg.ChunkTimeout, OfflineAfter: cfg.OfflineAfter, ReclaimAfter: cfg.ReclaimAfter,
	})
	if err != nil {
		return nil, err
	}
	// The gateway subscribes to the change feed in New, before the feed's
	// listener starts, so no change is missed.
	gw, err := gateway.New(gateway.Config{Service: svc, Store: cfg.Store, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	svc.Routes(mux)
	gw.Routes(mux)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		svc:    svc,
		http:   &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		ln:     ln,
		log:    cfg.Logger,
		cancel: cancel,
		done:   make(chan struct{}),
	}
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
