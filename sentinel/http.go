package sentinel

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

// replayCache remembers recent request signatures on this instance; the
// store remembers them for all instances.
type replayCache struct {
	mu   sync.Mutex
	seen map[string]time.Time // signature -> expiry
}

func newReplayCache() *replayCache { return &replayCache{seen: make(map[string]time.Time)} }

// add records sig until exp and reports whether it was new.
func (r *replayCache) add(sig string, now, exp time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.seen[sig]; ok && now.Before(e) {
		return false
	}
	r.seen[sig] = exp
	return true
}

func (r *replayCache) prune(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for sig, e := range r.seen {
		if !now.Before(e) {
			delete(r.seen, sig)
		}
	}
}

type ctxKey int

// Keys of what a request's context carries.
const (
	nodeKeyCtx ctxKey = iota + 1 // the verified public key (nodeKey)
	addressCtx                   // the client's address (withAddress)
	signerCtx                    // what was read with the signature (store.Signer)
)

// nodeKey returns the verified public key the signature middleware stored.
func nodeKey(ctx context.Context) ed25519.PublicKey {
	k, _ := ctx.Value(nodeKeyCtx).(ed25519.PublicKey)
	return k
}

// nodeByKey returns the node of key (encoded): the one the signature
// middleware read with the request's signature when it is the key that
// signed it, else a fresh read.
func (s *Service) nodeByKey(ctx context.Context, key string) (store.Node, error) {
	if v, ok := ctx.Value(signerCtx).(store.Signer); ok && key == protocol.EncodePublicKey(nodeKey(ctx)) {
		if !v.Known {
			return store.Node{}, store.ErrNotFound
		}
		return v.Node, nil
	}
	return s.store.NodeByPublicKey(ctx, key)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func nodeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, protocol.ErrorResponse{Error: msg})
}

// Signed wraps a node API handler with PROTOCOL section 2: it reads at most
// protocol.MaxBodyBytes (ReadBody), verifies the signature against the clock, refuses
// replays of a signature within the skew window (on this instance and,
// through the store, on every instance), and answers every refusal with
// 401 {"error": reason}. The handler finds the body in r.Body again and
// the caller's key through the request context.
func (s *Service) Signed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, release, err := s.ReadBody(w, r, protocol.MaxBodyBytes)
		switch {
		case errors.Is(err, ErrBodyTooLarge):
			nodeError(w, http.StatusUnauthorized, "Request body too large")
			return
		case errors.Is(err, ErrBodyBudget):
			w.Header().Set("Retry-After", "1")
			nodeError(w, http.StatusServiceUnavailable, err.Error())
			return
		case err != nil:
			nodeError(w, http.StatusBadRequest, "Could not read request body")
			return
		}
		defer release()
		h := protocol.Headers{
			Key:       r.Header.Get(protocol.HeaderKey),
			Timestamp: r.Header.Get(protocol.HeaderTimestamp),
			Signature: r.Header.Get(protocol.HeaderSignature),
		}
		now := s.clock.Now()
		pub, err := protocol.Verify(h, r.Method, r.URL.Path, body, now)
		if err != nil {
			nodeError(w, http.StatusUnauthorized, err.Error())
			return
		}
		// Key the memory by the decoded signature: base64 text can be
		// re-spelled (padding bits) without changing the bytes.
		raw, _ := base64.StdEncoding.DecodeString(h.Signature)
		sig := hex.EncodeToString(raw)
		exp := now.Add(2 * protocol.MaxClockSkew)
		if !s.replay.add(sig, now, exp) {
			nodeError(w, http.StatusUnauthorized, "Replayed request")
			return
		}
		key := protocol.EncodePublicKey(pub)
		signer, err := s.store.RememberSignature(r.Context(), store.Signature{Signature: sig, Key: key, Now: now, Expires: exp})
		if err != nil {
			s.nodeFailure(w, fmt.Errorf("remember signature: %w", err), 0)
			return
		}
		if !signer.Fresh {
			nodeError(w, http.StatusUnauthorized, "Replayed request")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		ctx := context.WithValue(r.Context(), nodeKeyCtx, pub)
		ctx = withAddress(context.WithValue(ctx, signerCtx, signer), s.ClientAddress(r))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// nodeCall adapts a service method to a signed node API handler: decode the
// JSON body into Req (an empty body decodes as {}), call, answer.
func nodeCall[Req, Resp any](s *Service, conflictStatus int, call func(context.Context, ed25519.PublicKey, Req) (Resp, error)) http.Handler {
	return s.Signed(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req Req
		body, _ := io.ReadAll(r.Body)
		if len(body) > 0 {
			if err := json.Unmarshal(body, &req); err != nil {
				nodeError(w, http.StatusBadRequest, "Invalid JSON body: "+err.Error())
				return
			}
		}
		resp, err := call(r.Context(), nodeKey(r.Context()), req)
		if err != nil {
			s.nodeFailure(w, err, conflictStatus)
			return
		}
		writeJSON(w, http.StatusOK, resp)
	}))
}

func (s *Service) nodeFailure(w http.ResponseWriter, err error, conflictStatus int) {
	var e *Error
	if store.Unavailable(err) {
		s.log.Warn("node API call: database unavailable", "err", err)
		w.Header().Set("Retry-After", "1")
		nodeError(w, http.StatusServiceUnavailable, "Database unavailable, try again")
		return
	}
	if !errors.As(err, &e) {
		s.log.Error("node API call failed", "err", err)
		nodeError(w, http.StatusInternalServerError, "Internal error")
		return
	}
	status := map[Kind]int{
		KindInvalid: http.StatusBadRequest, KindUnauthorized: http.StatusUnauthorized,
		KindForbidden: http.StatusForbidden, KindNotFound: http.StatusNotFound, KindConflict: conflictStatus,
		KindTooMany: http.StatusTooManyRequests,
	}[e.Kind]
	if e.Kind == KindTooMany {
		w.Header().Set("Retry-After", e.RetryAfterSeconds())
	}
	nodeError(w, status, e.Message)
}

// Handler returns the sentinel's HTTP surface: the node API, GET /status
// and GET /metrics. The REST and Realtime surface is package gateway's.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	s.Routes(mux)
	return mux
}

// Routes registers the sentinel's routes on mux, so the gateway can add its
// own beside them.
func (s *Service) Routes(mux *http.ServeMux) {
	noBody := func(call func(context.Context, ed25519.PublicKey) (any, error)) func(context.Context, ed25519.PublicKey, struct{}) (any, error) {
		return func(ctx context.Context, k ed25519.PublicKey, _ struct{}) (any, error) { return call(ctx, k) }
	}
	mux.Handle("POST "+protocol.PathRegister, nodeCall(s, http.StatusBadRequest, s.Register))
	mux.Handle("POST "+protocol.PathVerify, nodeCall(s, http.StatusBadRequest, noBody(func(ctx context.Context, k ed25519.PublicKey) (any, error) {
		return s.VerifyNode(ctx, k)
	})))
	mux.Handle("POST "+protocol.PathHeartbeat, nodeCall(s, http.StatusBadRequest, s.Heartbeat))
	mux.Handle("POST "+protocol.PathToken, nodeCall(s, http.StatusBadRequest, noBody(func(ctx context.Context, k ed25519.PublicKey) (any, error) {
		return s.NodeToken(ctx, k)
	})))
	mux.Handle("POST "+protocol.PathComplete, nodeCall(s, http.StatusBadRequest, s.CompleteChunk))
	mux.Handle("POST "+protocol.PathFail, nodeCall(s, http.StatusBadRequest, s.FailChunk))
	mux.Handle("POST "+protocol.PathRelease, nodeCall(s, http.StatusBadRequest, s.ReleaseChunk))

	mux.HandleFunc("GET /status", s.serveStatus)
	mux.HandleFunc("GET "+protocol.PathBootstrap, s.serveBootstrap)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
}

// Status is the body of GET /status.
type Status struct {
	Database         string    `json:"database"` // "ok" or "database unavailable"
	SchedulerLastRun time.Time `json:"schedulerLastRun"`
	UptimeSeconds    float64   `json:"uptimeSeconds"`
	NodesOnline      int       `json:"nodesOnline"`
	ChunksPending    int       `json:"chunksPending"`
	ChunksRunning    int       `json:"chunksRunning"`
}

// Status reports the instance's health. /status answers anyone, so a
// database failure shows only as "database unavailable": its error names
// the database's user, host and name, and goes to the log instead.
func (s *Service) Status(ctx context.Context) Status {
	now := s.clock.Now()
	s.mu.Lock()
	st := Status{Database: "ok", SchedulerLastRun: s.lastSchedule, UptimeSeconds: now.Sub(s.started).Seconds()}
	s.mu.Unlock()
	c, err := s.store.Counts(ctx)
	if err != nil {
		s.log.Error("status: database unavailable", "err", err)
		st.Database = "database unavailable"
		return st
	}
	st.NodesOnline, st.ChunksPending, st.ChunksRunning = c.NodesOnline, c.ChunksPending, c.ChunksRunning
	return st
}

func (s *Service) serveStatus(w http.ResponseWriter, r *http.Request) {
	st := s.Status(r.Context())
	code := http.StatusOK
	if st.Database != "ok" {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, st)
}
