package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"wowlab/protocol"
)

// Timeouts of sentinel requests.
const (
	RequestTimeout = 30 * time.Second
	ConnectTimeout = 10 * time.Second
)

// maxResponseBytes bounds what is read of a sentinel answer.
const maxResponseBytes = 1 << 20

// API is the signed client of the sentinel's node API (PROTOCOL sections 2
// and 3). It is safe for concurrent use.
type API struct {
	base *url.URL
	id   *Identity
	http *http.Client
	now  func() time.Time

	mu       sync.Mutex
	lastSent map[string]int64 // path and body hash -> timestamp last signed
}

// APIOptions tune NewAPI; the zero value is production.
type APIOptions struct {
	HTTPClient *http.Client     // nil: 30 s request and 10 s connect timeouts
	Now        func() time.Time // request timestamps; nil: time.Now
}

// NewAPI returns a client of the sentinel at baseURL (which may carry a path
// prefix) signing with id.
func NewAPI(baseURL string, id *Identity, o APIOptions) (*API, error) {
	if err := checkBaseURL("sentinel_url", baseURL); err != nil {
		return nil, err
	}
	u, _ := url.Parse(baseURL)
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	if o.HTTPClient == nil {
		o.HTTPClient = NewHTTPClient()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &API{base: u, id: id, http: o.HTTPClient, now: o.Now, lastSent: map[string]int64{}}, nil
}

// NewHTTPClient returns an HTTP client with the node's timeouts: 30 s per
// request, 10 s to connect and to finish the TLS handshake.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = ConnectTimeout
	return &http.Client{Timeout: RequestTimeout, Transport: t}
}

// APIError is a refusal by the sentinel: an HTTP status other than 200 and
// the message of its {"error"} body.
type APIError struct {
	Path    string
	Status  int
	Message string
	// Refusal is set when the body was an {"error"} object, as the
	// sentinel's own refusals are; a proxy's error page is not one.
	Refusal bool
}

func (e *APIError) Error() string {
	return fmt.Sprintf("sentinel %s: %d %s", e.Path, e.Status, e.Message)
}

// InvalidIdentity reports whether the sentinel does not know this node or
// it is not claimed: the node must register again.
func (e *APIError) InvalidIdentity() bool {
	m := strings.ToLower(e.Message)
	return e.Status == http.StatusNotFound && (strings.Contains(m, "not found") || strings.Contains(m, "not claimed"))
}

// NetworkError is a request that got no HTTP answer (connection refused,
// timeout, TLS failure) or an answer that could not be read.
type NetworkError struct {
	Path string
	Err  error
}

func (e *NetworkError) Error() string { return fmt.Sprintf("sentinel %s: %v", e.Path, e.Err) }
func (e *NetworkError) Unwrap() error { return e.Err }

// ServerUnavailable reports whether err means the server could not be reached or
// failed on its side (network error, 5xx, 429): worth retrying later.
func ServerUnavailable(err error) bool {
	var ne *NetworkError
	if errors.As(err, &ne) {
		return true
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500 || ae.Status == http.StatusTooManyRequests
	}
	return false
}

// Register announces this node and returns its id, claim code and whether
// it is claimed.
func (a *API) Register(ctx context.Context, req protocol.RegisterRequest) (protocol.RegisterResponse, error) {
	var out protocol.RegisterResponse
	err := a.post(ctx, protocol.PathRegister, req, &out)
	if err == nil && out.ID == "" {
		err = &NetworkError{Path: protocol.PathRegister, Err: errors.New("answer has no id")}
	}
	return out, err
}

// Verify asks whether this node exists and is claimed.
func (a *API) Verify(ctx context.Context) (protocol.NodeInfo, error) {
	var out protocol.NodeInfo
	err := a.post(ctx, protocol.PathVerify, nil, &out)
	return out, err
}

// Heartbeat reports the node online, taking capacity chunks at once (0:
// none, while paused or finishing), and renews its sized-chunk offer (nil:
// none).
func (a *API) Heartbeat(ctx context.Context, capacity int, offer *protocol.ChunkOffer) (protocol.NodeInfo, error) {
	var out protocol.NodeInfo
	err := a.post(ctx, protocol.PathHeartbeat, protocol.HeartbeatRequest{Status: protocol.NodeOnline, Capacity: &capacity, Chunks: offer}, &out)
	return out, err
}

// GoOffline tells the sentinel the node is shutting down, so it is given
// no new work (the offline heartbeat, an extension of PROTOCOL section 3).
func (a *API) GoOffline(ctx context.Context) error {
	var out protocol.NodeInfo
	return a.post(ctx, protocol.PathHeartbeat, protocol.HeartbeatRequest{Status: protocol.NodeOffline}, &out)
}

// Token returns a short-lived token for REST and Realtime.
func (a *API) Token(ctx context.Context) (protocol.TokenResponse, error) {
	var out protocol.TokenResponse
	err := a.post(ctx, protocol.PathToken, nil, &out)
	if err == nil && out.Token == "" {
		err = &NetworkError{Path: protocol.PathToken, Err: errors.New("answer has no token")}
	}
	return out, err
}

// Complete posts a chunk's result.
func (a *API) Complete(ctx context.Context, chunkID string, r protocol.ChunkResult) (protocol.CompleteResponse, error) {
	var out protocol.CompleteResponse
	err := a.post(ctx, protocol.PathComplete, protocol.CompleteRequest{ChunkID: chunkID, Result: r}, &out)
	return out, err
}

// Fail reports a chunk that could not be simulated.
func (a *API) Fail(ctx context.Context, chunkID, reason string) (protocol.FailResponse, error) {
	var out protocol.FailResponse
	err := a.post(ctx, protocol.PathFail, protocol.FailRequest{ChunkID: chunkID, Error: reason}, &out)
	return out, err
}

// Release hands back a chunk this node will not finish.
func (a *API) Release(ctx context.Context, chunkID string) (protocol.ReleaseResponse, error) {
	var out protocol.ReleaseResponse
	err := a.post(ctx, protocol.PathRelease, protocol.ReleaseRequest{ChunkID: chunkID}, &out)
	return out, err
}

// timestamp returns the time to sign a request with. The sentinel refuses
// an exact replay, and Ed25519 signatures are deterministic, so the same
// request sent twice within one second (a retry, two verifies) would be
// refused: such a repeat is stamped one second after the last one instead,
// well within the accepted clock skew.
func (a *API) timestamp(path string, body []byte) int64 {
	key := path + "\x00" + protocol.BodyHash(body)
	a.mu.Lock()
	defer a.mu.Unlock()
	ts := a.now().Unix()
	if last, ok := a.lastSent[key]; ok && ts <= last {
		ts = last + 1
	}
	a.lastSent[key] = ts
	for k, v := range a.lastSent {
		if v < ts-int64(protocol.MaxClockSkew/time.Second) {
			delete(a.lastSent, k) // old enough that the sentinel forgot it too
		}
	}
	return ts
}

// post signs and sends body (nil: empty body) to path and decodes a 200
// answer into out.
func (a *API) post(ctx context.Context, path string, body, out any) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return fmt.Errorf("encode %s body: %w", path, err)
		}
	}
	u := *a.base
	u.Path = a.base.Path + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("build %s request: %w", path, err)
	}
	h := a.id.Sign(a.timestamp(u.Path, raw), http.MethodPost, u.Path, raw)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(protocol.HeaderKey, h.Key)
	req.Header.Set(protocol.HeaderTimestamp, h.Timestamp)
	req.Header.Set(protocol.HeaderSignature, h.Signature)
	resp, err := a.http.Do(req)
	if err != nil {
		return &NetworkError{Path: path, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return &NetworkError{Path: path, Err: fmt.Errorf("read answer: %w", err)}
	}
	if resp.StatusCode != http.StatusOK {
		var e protocol.ErrorResponse
		msg := strings.TrimSpace(string(data))
		refusal := json.Unmarshal(data, &e) == nil && e.Error != ""
		if refusal {
			msg = e.Error
		}
		if len(msg) > 200 {
			msg = msg[:200]
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return &APIError{Path: path, Status: resp.StatusCode, Message: msg, Refusal: refusal}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &NetworkError{Path: path, Err: fmt.Errorf("decode answer: %w", err)}
	}
	return nil
}
