package supabase

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Defaults of RealtimeOptions.
const (
	DefaultHeartbeatInterval = 25 * time.Second
	DefaultReplyTimeout      = 10 * time.Second
	DefaultHealthyAfter      = 10 * time.Second
	DefaultMaxMessageBytes   = 1 << 20
)

// RealtimeOptions configure NewRealtime. APIURL and APIKey are required.
type RealtimeOptions struct {
	// APIURL is the backend base URL (http or https); the socket is
	// <APIURL with ws or wss>/realtime/v1/websocket.
	APIURL string
	// APIKey is the anon key, sent as the apikey query parameter.
	APIKey string
	// AccessToken is sent on every join; empty means APIKey. Replace it
	// with Realtime.SetAccessToken.
	AccessToken string
	// Serializer picks the wire format; empty means SerializerV2.
	Serializer Serializer
	// HeartbeatInterval is how often a heartbeat is sent; a heartbeat whose
	// reply has not come by the next one drops the socket. 0 means 25 s.
	HeartbeatInterval time.Duration
	// ReplyTimeout bounds the dial and each wait for a reply (join, leave,
	// presence). 0 means 10 s.
	ReplyTimeout time.Duration
	// Backoff spaces reconnects and channel rejoins. Its zero value is 1 s
	// doubling to 60 s; a Jitter of 0 means 1 s here.
	Backoff Backoff
	// HealthyAfter is how long a socket must stay up for the reconnect
	// backoff to start again from its first delay. 0 means 10 s.
	HealthyAfter time.Duration
	// MaxMessageBytes bounds an incoming frame. 0 means 1 MiB.
	MaxMessageBytes int64
	// Clock drives heartbeats, timeouts and backoff; nil means the system
	// clock.
	Clock Clock
	// HTTPClient dials the socket; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Logger receives debug and warning records; nil discards them.
	Logger *slog.Logger
	// OnStatus, when set, is told of every connection and subscription
	// change, in order, on the callback goroutine.
	OnStatus func(Status)
}

// StatusKind says what a Status reports.
type StatusKind int

// Status kinds.
const (
	// StatusConnected: a socket is up (Session counts sockets from 1).
	StatusConnected StatusKind = iota + 1
	// StatusDisconnected: the socket went down or a connection attempt
	// failed (Err says why); the next attempt is in RetryIn, unless Run is
	// returning (RetryIn 0, Err is the context's error).
	StatusDisconnected
	// StatusSubscribed: channel Topic was joined on this socket. Changes
	// sent while it was not joined are not replayed: resync now.
	StatusSubscribed
	// StatusChannelError: channel Topic was refused, failed or was closed by
	// the server (Err, often a *ChannelError); it is joined again after
	// RetryIn.
	StatusChannelError
)

// String returns the kind's name.
func (k StatusKind) String() string {
	switch k {
	case StatusConnected:
		return "connected"
	case StatusDisconnected:
		return "disconnected"
	case StatusSubscribed:
		return "subscribed"
	case StatusChannelError:
		return "channel_error"
	}
	return fmt.Sprintf("StatusKind(%d)", int(k))
}

// Status is one connection or subscription change of a Realtime.
type Status struct {
	Kind    StatusKind
	Session uint64 // socket number, from 1; 0 for a failed connection attempt
	Topic   string // channel topic, for the channel kinds
	Err     error
	RetryIn time.Duration
}

// ChannelError is a channel refused by the server (join reply "error"),
// closed by it (phx_close) or failed on its side (phx_error).
type ChannelError struct {
	Topic  string
	Event  string // "phx_reply", "phx_close", "phx_error" or "system"
	Reason string
}

// Error names the channel, the event and the reason.
func (e *ChannelError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("supabase: realtime channel %s: %s", e.Topic, e.Event)
	}
	return fmt.Sprintf("supabase: realtime channel %s: %s: %s", e.Topic, e.Event, e.Reason)
}

// ErrHeartbeatTimeout is why a socket is dropped when a heartbeat got no
// reply within one interval.
var ErrHeartbeatTimeout = errors.New("supabase: realtime heartbeat not answered")

// ErrReplyTimeout is returned when a push got no reply within
// RealtimeOptions.ReplyTimeout.
var ErrReplyTimeout = errors.New("supabase: realtime reply timed out")

// Realtime is a Supabase Realtime client: one WebSocket at a time, kept up
// by Run, carrying any number of channels. Subscribe, SetAccessToken and
// the Channel methods are safe for concurrent use, before or while Run runs.
type Realtime struct {
	opts     RealtimeOptions
	wsURL    string
	clock    Clock
	log      *slog.Logger
	backoff  Backoff
	hbEvery  time.Duration
	replyTO  time.Duration
	healthy  time.Duration
	maxBytes int64

	mu       sync.Mutex
	token    string
	channels map[string]*Channel // by topic
	sess     *session            // the live socket, nil when down
	running  bool
}

// NewRealtime checks opts and returns a client; nothing connects until Run.
func NewRealtime(opts RealtimeOptions) (*Realtime, error) {
	base, err := parseAPIURL(opts.APIURL)
	if err != nil {
		return nil, err
	}
	if opts.APIKey == "" {
		return nil, errors.New("supabase: realtime: api key is empty")
	}
	if opts.Serializer == "" {
		opts.Serializer = SerializerV2
	}
	if !opts.Serializer.Valid() {
		return nil, fmt.Errorf("supabase: realtime: unknown serializer %q (want %s or %s)", string(opts.Serializer), SerializerV1, SerializerV2)
	}
	if opts.HeartbeatInterval < 0 || opts.ReplyTimeout < 0 || opts.HealthyAfter < 0 || opts.MaxMessageBytes < 0 {
		return nil, errors.New("supabase: realtime: durations and sizes must not be negative")
	}
	switch base.Scheme {
	case "https":
		base.Scheme = "wss"
	default:
		base.Scheme = "ws"
	}
	base = base.JoinPath("realtime", "v1", "websocket")
	base.RawQuery = "apikey=" + queryEscape(opts.APIKey) + "&vsn=" + string(opts.Serializer)
	r := &Realtime{
		opts:     opts,
		wsURL:    base.String(),
		clock:    clockOrSystem(opts.Clock),
		log:      opts.Logger,
		backoff:  opts.Backoff,
		hbEvery:  cmp0(opts.HeartbeatInterval, DefaultHeartbeatInterval),
		replyTO:  cmp0(opts.ReplyTimeout, DefaultReplyTimeout),
		healthy:  cmp0(opts.HealthyAfter, DefaultHealthyAfter),
		maxBytes: cmp0(opts.MaxMessageBytes, DefaultMaxMessageBytes),
		token:    opts.AccessToken,
		channels: make(map[string]*Channel),
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.backoff.Jitter <= 0 {
		r.backoff.Jitter = time.Second
	}
	if r.token == "" {
		r.token = opts.APIKey
	}
	return r, nil
}

// cmp0 returns v, or def when v is zero.
func cmp0[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// URL returns the socket URL this client dials.
func (r *Realtime) URL() string { return r.wsURL }

// Subscribe adds channel realtime:<name> with cfg. The channel is joined
// as soon as a socket is up, and joined again on every reconnect until
// Leave; StatusSubscribed reports each join. name must be non-empty and
// not already subscribed.
func (r *Realtime) Subscribe(name string, cfg ChannelConfig) (*Channel, error) {
	if name == "" || strings.ContainsFunc(name, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		return nil, fmt.Errorf("supabase: realtime: invalid channel name %q", name)
	}
	bindings := make([]ChangeBinding, len(cfg.Changes))
	for i, b := range cfg.Changes {
		if b.Event == "" {
			b.Event = "*"
		}
		if b.Schema == "" {
			b.Schema = "public"
		}
		switch b.Event {
		case "*", ChangeInsert, ChangeUpdate, ChangeDelete:
		default:
			return nil, fmt.Errorf("supabase: realtime: channel %s: binding %d: event %q is not *, INSERT, UPDATE or DELETE", name, i, b.Event)
		}
		if b.OnChange == nil {
			return nil, fmt.Errorf("supabase: realtime: channel %s: binding %d has no OnChange", name, i)
		}
		bindings[i] = b
	}
	cfg.Changes = bindings
	ch := &Channel{r: r, topic: "realtime:" + name, name: name, cfg: cfg}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.channels[ch.topic]; dup {
		return nil, fmt.Errorf("supabase: realtime: channel %s is already subscribed", name)
	}
	r.channels[ch.topic] = ch
	if s := r.sess; s != nil {
		s.startJoin(ch, 0)
	}
	return ch, nil
}

// SetAccessToken replaces the access token: it is sent at once (event
// access_token) on every joined channel and used for every later join. An
// empty token means the API key. It returns the errors of the sends (the
// token is kept either way and used on rejoin).
func (r *Realtime) SetAccessToken(ctx context.Context, token string) error {
	if token == "" {
		token = r.opts.APIKey
	}
	r.mu.Lock()
	r.token = token
	s := r.sess
	type target struct{ topic, joinRef string }
	var targets []target
	for _, ch := range r.channels {
		if s != nil && ch.sess == s && ch.joinRef != "" {
			targets = append(targets, target{ch.topic, ch.joinRef})
		}
	}
	r.mu.Unlock()
	payload, err := jsonMarshal(AccessTokenPayload{AccessToken: token})
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range targets {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.send(Message{JoinRef: t.joinRef, Ref: s.nextRef(), Topic: t.topic, Event: "access_token", Payload: payload}); err != nil {
			errs = append(errs, fmt.Errorf("supabase: realtime: send access token to %s: %w", t.topic, err))
		}
	}
	return errors.Join(errs...)
}

// Connected reports whether a socket is up right now.
func (r *Realtime) Connected() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sess != nil
}

// Run connects and keeps the socket up until ctx ends: it heartbeats,
// reconnects with jittered exponential backoff (reset once a socket stayed
// up HealthyAfter), rejoins every channel after each reconnect and reports
// each step to OnStatus. It returns ctx's error, after every goroutine it
// started has ended and every queued callback has run. Only one Run may be
// active at a time.
func (r *Realtime) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.running {
		r.mu.Unlock()
		return errors.New("supabase: realtime: Run is already running")
	}
	r.running = true
	r.mu.Unlock()

	d := newDispatcher()
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.run()
	}()
	defer func() {
		d.close()
		<-done
		r.mu.Lock()
		r.running = false
		r.mu.Unlock()
	}()

	attempt := 0
	for n := uint64(1); ; n++ {
		connectedAt, err := r.runSession(ctx, n, d)
		if ctx.Err() != nil {
			if !connectedAt.IsZero() {
				r.emit(d, Status{Kind: StatusDisconnected, Session: n, Err: ctx.Err()})
			}
			return ctx.Err()
		}
		if !connectedAt.IsZero() && r.clock.Now().Sub(connectedAt) >= r.healthy {
			attempt = 0
		}
		delay := r.backoff.Delay(attempt)
		attempt++
		st := Status{Kind: StatusDisconnected, Err: err, RetryIn: delay}
		if !connectedAt.IsZero() {
			st.Session = n
		}
		r.log.Warn("realtime socket down", "err", err, "retry_in", delay)
		r.emit(d, st)
		if err := sleep(ctx, r.clock, delay); err != nil {
			return err
		}
	}
}

// emit queues a status callback.
func (r *Realtime) emit(d *dispatcher, st Status) {
	if f := r.opts.OnStatus; f != nil {
		d.enqueue(func() { f(st) })
	}
}

// dispatcher runs callbacks one at a time, in order, on one goroutine, so
// that no callback ever runs on (or blocks) the socket's read loop. Its
// queue is unbounded: a slow callback delays later callbacks, never the
// socket.
type dispatcher struct {
	mu     sync.Mutex
	queue  []func()
	closed bool
	wake   chan struct{}
}

func newDispatcher() *dispatcher { return &dispatcher{wake: make(chan struct{}, 1)} }

func (d *dispatcher) enqueue(f func()) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.queue = append(d.queue, f)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// close makes run return once the queue is empty.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *dispatcher) run() {
	for {
		d.mu.Lock()
		if len(d.queue) == 0 {
			closed := d.closed
			d.mu.Unlock()
			if closed {
				return
			}
			<-d.wake
			continue
		}
		f := d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		d.mu.Unlock()
		f()
	}
}
