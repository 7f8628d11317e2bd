package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"wowlab/internal/clock"
	"wowlab/node/policy"
	"wowlab/node/worker"
	"wowlab/supabase"
)

// Intervals are the timings of Core; zero fields take the PROTOCOL values.
// Tests shorten them.
type Intervals struct {
	Heartbeat        time.Duration // while claimed; 15 s
	ClaimPoll        time.Duration // verify while claiming; 3 s
	UnavailableStart time.Duration // first retry delay when unavailable; 5 s
	UnavailableMax   time.Duration // retry delay cap; 5 min
	FetchRetry       time.Duration // first delay between config/rotation fetch attempts; 1 s
	FetchAttempts    int           // tries of a config/rotation fetch before the chunk fails; 5
	ReportAttempts   int           // tries of a failure report; 5
	ResultRetry      time.Duration // first delay between attempts to deliver a result; 1 s
	ResultRetryMax   time.Duration // cap of that delay, plus up to half of it as jitter; 30 s
	TokenRefresh     time.Duration // refresh the token this long before it expires; 5 min
	Grace            time.Duration // drain time at shutdown, and for results on their way after Finish; 30 s
	Policy           time.Duration // between readings of the machine for the policies; policy.DefaultInterval
}

func (iv Intervals) withDefaults() Intervals {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&iv.Heartbeat, 15*time.Second)
	def(&iv.ClaimPoll, 3*time.Second)
	def(&iv.UnavailableStart, 5*time.Second)
	def(&iv.UnavailableMax, 5*time.Minute)
	def(&iv.FetchRetry, time.Second)
	def(&iv.ResultRetry, time.Second)
	def(&iv.ResultRetryMax, 30*time.Second)
	def(&iv.TokenRefresh, 5*time.Minute)
	def(&iv.Grace, 30*time.Second)
	def(&iv.Policy, policy.DefaultInterval)
	if iv.FetchAttempts <= 0 {
		iv.FetchAttempts = 5
	}
	if iv.ReportAttempts <= 0 {
		iv.ReportAttempts = 5
	}
	return iv
}

// Options configure New. ConfigDir is required.
type Options struct {
	ConfigDir string    // holds keypair, config.ini and the results journal
	Overrides Overrides // this run's URL and key overrides (saved with the node id it registers)
	// Policy are this run's policy settings (flags, environment), over the
	// [policy] section of config.ini; not saved.
	Policy policy.Overrides
	// Probes read the machine for the policies; a nil probe makes its
	// rule "not available here".
	Probes    policy.Probes
	Version   string // reported at registration
	Logger    *slog.Logger
	Clock     clock.Clock  // nil: system clock
	HTTP      *http.Client // sentinel and REST client; nil: NewHTTPClient()
	Random    io.Reader    // key generation; nil: crypto/rand
	Intervals Intervals
	// Serializer is the realtime wire format; empty: supabase's default.
	Serializer supabase.Serializer
	// RealtimeBackoff spaces realtime reconnects; zero: 1 s doubling to 60 s plus 0-1 s jitter.
	RealtimeBackoff supabase.Backoff
	// Host overrides machine detection (tests); zero: DetectHost(0). Its
	// EnabledCores is the default of the cores setting.
	Host Host
	// FixedChunks announces no sized chunks: the sentinel gives the node
	// the protocol's chunks of protocol.ChunkSize, as to an original node.
	FixedChunks bool
	// sim runs chunks; nil: the engine. Only tests of this package set it.
	sim simulator
}

// Core is a running node: the lifecycle of PROTOCOL section 7, realtime
// subscriptions, chunk processing on a worker pool, and the volunteer's
// controls (Pause, Resume, Finish, SetCores, UpdateSettings) with the
// policies of a policy.Governor deciding how many workers run. Create it
// with New and call Run once. Its methods are safe for concurrent use.
type Core struct {
	opts   Options
	iv     Intervals
	log    *slog.Logger
	clock  clock.Clock
	id     *Identity
	host   Host
	api    *API
	cache  *Cache
	pool   *worker.Pool
	meter  *meter
	cpu    *cpuSampler
	sim    simulator
	httpc  *http.Client
	config Config // effective (saved plus overrides)
	saved  Config // as in the file

	held        *heldResults                   // finished results the sentinel has not taken
	delivered   *otter.Cache[string, struct{}] // chunks whose result it took lately
	reports     sync.WaitGroup                 // result deliveries (see deliver)
	stopping    context.Context                // ends when the drain stops result deliveries
	stopDeliver context.CancelFunc
	answered    chan struct{} // signalled when the sentinel answers a delivery
	retry       chan struct{} // signalled by RetryNow
	failReports chan struct{} // slots of failure reports of unusable assignments
	warnings    struct{ unusable, overloaded warnLimit }

	gov      *policy.Governor
	applyMu  sync.Mutex    // serialises apply
	fileMu   sync.Mutex    // serialises changes of config.ini
	beat     chan struct{} // signalled when the capacity changed: heartbeat now
	settled  chan struct{} // signalled when a chunk or a result left the node
	finishCh chan struct{} // closed by Finish

	mu          sync.Mutex
	state       State
	conn        Connection
	subs        map[int]chan Event
	nextSub     int
	maxParallel int
	inProgress  map[string]*tracked
	active      int
	claimedCh   chan struct{} // signalled when a node change shows the claim
	gate        *coreGate     // the cores the chunks share
	speed       speedometer   // iterations per core-second
	started     atomic.Uint64 // chunks started: the order of a chunk at the gate
	announced   atomic.Uint64 // float64 bits: the throughput last announced
	session     *realtimeSession
	decision    policy.Decision // the one the pool follows
	finishing   bool
	unlinking   bool           // Unlink: forget the identity once finished
	claimURL    string         // the sentinel's claim page, from its bootstrap
	needs       bootstrapNeeds // what is still to learn from the bootstrap
}

// New loads (or creates) the identity and config in opts.ConfigDir, and
// the results a previous run kept for the sentinel, and returns a Core
// ready to Run.
func New(opts Options) (*Core, error) {
	if opts.ConfigDir == "" {
		return nil, errors.New("node: no config directory")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.System{}
	}
	id, err := LoadIdentity(opts.ConfigDir, opts.Random, log)
	if err != nil {
		return nil, err
	}
	saved, err := LoadConfig(opts.ConfigDir, log)
	if err != nil {
		return nil, err
	}
	held, err := loadHeldResults(opts.ConfigDir, log)
	if err != nil {
		return nil, err
	}
	eff, err := saved.With(opts.Overrides)
	if err != nil {
		return nil, fmt.Errorf("override: %w", err)
	}
	if eff.NodeID != "" && eff.SentinelURL != saved.SentinelURL {
		// The id belongs to the sentinel it registered at.
		log.Info("the node id in config.ini is another sentinel's; registering here", "registered_at", saved.SentinelURL, "sentinel", eff.SentinelURL)
		eff.NodeID = ""
	}
	needs := needsOf(opts.Overrides, saved, eff)
	if eff.AnonKey == "" && !needs.wanted {
		return nil, errors.New("node: no anon key: set anon_key in config.ini or pass --anon-key / WOWLAB_ANON_KEY")
	}
	httpc := opts.HTTP
	if httpc == nil {
		httpc = NewHTTPClient()
	}
	api, err := NewAPI(eff.SentinelURL, id, APIOptions{HTTPClient: httpc, Now: clk.Now})
	if err != nil {
		return nil, err
	}
	host := opts.Host
	if host.TotalCores == 0 {
		host = DetectHost(0)
	}
	iv := opts.Intervals.withDefaults()
	savedPolicy, err := LoadPolicy(opts.ConfigDir)
	if err != nil {
		return nil, err
	}
	gov, err := policy.NewGovernor(savedPolicy, opts.Policy, policy.GovernorOptions{
		Machine: policy.Machine{TotalCores: host.TotalCores, DefaultCores: host.EnabledCores},
		Probes:  opts.Probes, Clock: clk, Interval: iv.Policy, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	host.EnabledCores = policy.BaseCores(gov.Settings(), host.TotalCores, host.EnabledCores)
	decision := gov.Decision()
	sim := opts.sim
	if sim == nil {
		sim = newEngineSimulator()
	}
	c := &Core{
		opts: opts, iv: iv, log: log, clock: clk, id: id, host: host,
		api: api, cache: NewCache(clk), pool: worker.New(decision.Cores), gate: newCoreGate(decision.Cores), meter: newMeter(clk.Now()),
		cpu: newCPUSampler(), sim: sim, httpc: httpc, config: eff, saved: saved,
		gov: gov, decision: decision, needs: needs, beat: make(chan struct{}, 1), settled: make(chan struct{}, 1), finishCh: make(chan struct{}),
		subs: map[int]chan Event{}, inProgress: map[string]*tracked{}, claimedCh: make(chan struct{}, 1),
		held: held, answered: make(chan struct{}, 1), retry: make(chan struct{}, 1), failReports: make(chan struct{}, maxFailReports),
		delivered: otter.Must(&otter.Options[string, struct{}]{
			MaximumSize:      100_000,
			ExpiryCalculator: otter.ExpiryWriting[string, struct{}](recentlyDelivered),
			Clock:            otterClock{clk},
		}),
	}
	c.stopping, c.stopDeliver = context.WithCancel(context.Background())
	return c, nil
}

// Identity returns the node's key pair.
func (c *Core) Identity() *Identity { return c.id }

// Host returns what the node registers with; EnabledCores is the cores
// setting at the start.
func (c *Core) Host() Host { return c.host }

// Config returns the effective settings of this run.
func (c *Core) Config() Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.config
}

// State returns the current lifecycle state.
func (c *Core) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Connection returns the state of the realtime link.
func (c *Core) Connection() Connection {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn
}

// Stats returns a snapshot of the node's statistics.
func (c *Core) Stats() Stats {
	now := c.clock.Now()
	c.mu.Lock()
	s := Stats{ActiveChunks: c.active, TotalCores: c.host.TotalCores}
	c.mu.Unlock()
	s.BusyWorkers, s.MaxWorkers = c.pool.Busy(), c.pool.Size()
	c.meter.fill(&s, now)
	s.CPUPercent = c.cpu.percent()
	return s
}

// Subscribe returns a channel of events, buffered with buf slots, and a
// function ending the subscription. The core never waits for a
// subscriber: when a channel is full, the event is dropped for it (State
// and Stats always give the current picture).
func (c *Core) Subscribe(buf int) (<-chan Event, func()) {
	ch := make(chan Event, max(1, buf))
	c.mu.Lock()
	id := c.nextSub
	c.nextSub++
	c.subs[id] = ch
	c.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			c.mu.Lock()
			delete(c.subs, id)
			c.mu.Unlock()
			close(ch)
		})
	}
}

func (c *Core) emit(e Event) {
	e.Time = c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.emitLocked(e)
}

func (c *Core) emitLocked(e Event) {
	if e.Time.IsZero() {
		e.Time = c.clock.Now()
	}
	for _, ch := range c.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

func (c *Core) setState(s State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s == c.state {
		return
	}
	c.state = s
	c.log.Info("node state", "state", s.String())
	c.emitLocked(Event{Kind: StateChanged, State: s})
}

func (c *Core) setConnection(conn Connection) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if conn == c.conn {
		return
	}
	c.conn = conn
	c.emitLocked(Event{Kind: ConnectionChanged, Connection: conn})
}

// errInvalidIdentity means the saved node id is unknown or unclaimed where a
// claimed node was expected: register again.
var errInvalidIdentity = errors.New("node identity is no longer valid")

// errReverified ends a run whose node was verified again after a refused
// heartbeat; the lifecycle starts over from Verifying.
var errReverified = errors.New("node verified again")

// Run runs the node until ctx ends or, after Finish, until it holds no
// chunk, then drains: it stops taking work, lets running chunks finish
// within the grace period and releases the rest. Results kept by an
// earlier run are delivered from the start, alongside new work. The
// policies are measured and followed while it runs. It returns nil after
// the drain; Run may be called only once.
func (c *Core) Run(parent context.Context) error {
	ctx, stop := context.WithCancel(parent)
	defer stop()
	var bg sync.WaitGroup
	bg.Go(func() { _ = c.gov.Run(ctx) })
	bg.Go(func() { c.follow(ctx) })
	bg.Go(func() { c.awaitFinish(ctx, stop) })
	defer func() {
		stop()
		bg.Wait()
		c.drain()
		if c.finishRequested() {
			st := State{Phase: Finished, NodeID: c.Config().NodeID}
			if c.unlinkRequested() {
				st = c.forgetIdentity(st)
			}
			c.setState(st)
		}
	}()
	if kept := c.held.list(); len(kept) > 0 {
		c.log.Info("delivering results kept from the last run", "results", len(kept))
		for _, h := range kept {
			c.reports.Add(1)
			go c.deliver(h)
		}
	}
	attempt := 0
	for ctx.Err() == nil {
		err := c.lifecycle(ctx, func() { attempt = 0 })
		if ctx.Err() != nil {
			break
		}
		delay := supabase.Backoff{Initial: c.iv.UnavailableStart, Max: c.iv.UnavailableMax}.Delay(attempt)
		attempt++
		c.log.Warn("backend unavailable", "err", err, "retry_in", delay)
		c.emit(Event{Kind: Error, Err: err})
		for _, stale := range []chan struct{}{c.answered, c.retry} {
			select {
			case <-stale: // from before the failure: it proves nothing
			default:
			}
		}
		// Entered after the drain: a RetryNow seen to follow this state
		// is not taken for a stale one.
		c.setState(State{Phase: Unavailable, NodeID: c.Config().NodeID, RetryIn: delay, Err: err.Error()})
		select {
		case <-ctx.Done():
		case <-c.clock.After(delay):
		case <-c.answered:
			c.log.Info("the sentinel answers again; retrying now")
		case <-c.retry:
			c.log.Info("retrying now, as asked")
		}
	}
	return nil
}

// backendAnswered records that the sentinel answered a request, which ends
// a wait in Unavailable early. It never blocks.
func (c *Core) backendAnswered() {
	select {
	case c.answered <- struct{}{}:
	default:
	}
}

// lifecycle identifies the node, waits for its claim and runs it until an
// error or ctx ends. ok is called after every successful exchange with the
// sentinel that proves the backend is available again. A sentinel that
// sends the node back to the start (identity refused, heartbeat refused)
// again within UnavailableMax of the last time is waited for with the
// Unavailable backoff, so contradicting answers cannot make a busy loop.
func (c *Core) lifecycle(ctx context.Context, ok func()) error {
	restarts := 0
	if err := c.bootstrap(ctx); err != nil {
		return err
	}
	for {
		started := c.clock.Now()
		id, err := c.identify(ctx, ok)
		if err != nil {
			return err
		}
		// One realtime session serves Claiming and Running.
		sessCtx, stop := context.WithCancel(ctx)
		sessErr := c.startSession(sessCtx, id.nodeID)
		if !id.claimed {
			id.name, err = c.claim(ctx, id.nodeID, id.code, sessErr)
		}
		if err == nil {
			err = c.run(ctx, id.nodeID, id.name, sessErr)
		}
		stop()
		switch {
		case errors.Is(err, errInvalidIdentity):
			if err := c.saveNodeID(""); err != nil {
				return err
			}
		case errors.Is(err, errReverified):
		case err != nil:
			return err
		}
		if c.clock.Now().Sub(started) >= c.iv.UnavailableMax {
			restarts = 0
		}
		if restarts++; restarts > 1 {
			delay := supabase.Backoff{Initial: c.iv.UnavailableStart, Max: c.iv.UnavailableMax}.Delay(restarts - 2)
			c.log.Warn("the sentinel sent the node back to the start again", "err", err, "retry_in", delay)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-c.clock.After(delay):
			}
		}
	}
}

// identity is what identify learned.
type identity struct {
	nodeID, code, name string
	claimed            bool
}

// identify verifies the saved node id, or registers when there is none or
// the sentinel does not know it.
func (c *Core) identify(ctx context.Context, ok func()) (identity, error) {
	if nodeID := c.Config().NodeID; nodeID != "" {
		c.setState(State{Phase: Verifying, NodeID: nodeID})
		info, err := c.api.Verify(ctx)
		var ae *APIError
		switch {
		case err == nil:
			ok()
			c.setMaxParallel(info.MaxParallel)
			return identity{nodeID: nodeID, name: info.Name, claimed: true}, nil
		case errors.As(err, &ae) && ae.InvalidIdentity():
			// Unknown: register anew. Known but unclaimed: registering
			// returns the same id and claim code.
			c.log.Info("registering again", "node_id", nodeID, "reason", ae.Message)
			if err := c.saveNodeID(""); err != nil {
				return identity{}, err
			}
		default:
			return identity{}, err
		}
	}
	c.setState(State{Phase: Registering})
	req := c.host.RegisterRequest(c.opts.Version)
	req.Chunks = c.chunkOffer()
	reg, err := c.api.Register(ctx, req)
	if err != nil {
		return identity{}, err
	}
	ok()
	if err := c.saveNodeID(reg.ID); err != nil {
		return identity{}, err
	}
	id := identity{nodeID: reg.ID, code: reg.ClaimCode, claimed: reg.Claimed}
	if id.code == "" {
		id.code = c.id.ClaimCode()
	}
	if reg.Claimed {
		info, err := c.api.Verify(ctx)
		if err != nil {
			return identity{}, err
		}
		c.setMaxParallel(info.MaxParallel)
		id.name = info.Name
	}
	return id, nil
}

// minClaimCheck spaces the verifies of a node waiting for its claim,
// however many node changes announce one.
const minClaimCheck = time.Second

// claim waits for a user to claim the node: a realtime node change, or a
// verify answering claimed (polled every ClaimPoll as a fallback). It
// returns the node's name.
func (c *Core) claim(ctx context.Context, nodeID, code string, sessErr <-chan error) (string, error) {
	c.mu.Lock()
	claimURL := c.claimURL
	c.mu.Unlock()
	c.setState(State{Phase: Claiming, NodeID: nodeID, ClaimCode: code, ClaimURL: claimURL})
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case err := <-sessErr:
			return "", err
		case <-c.claimedCh:
		case <-c.clock.After(c.iv.ClaimPoll):
		}
		if wait := minClaimCheck - c.clock.Now().Sub(last); !last.IsZero() && wait > 0 {
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-c.clock.After(wait):
			}
		}
		last = c.clock.Now()
		info, err := c.api.Verify(ctx)
		var ae *APIError
		switch {
		case err == nil:
			c.setMaxParallel(info.MaxParallel)
			c.emit(Event{Kind: Claimed, State: State{Phase: Running, NodeID: nodeID, Name: info.Name}})
			c.log.Info("node claimed", "node_id", nodeID, "name", info.Name)
			return info.Name, nil
		case errors.As(err, &ae) && ae.Status == http.StatusNotFound && containsFold(ae.Message, "not claimed"):
			continue
		case errors.As(err, &ae) && ae.InvalidIdentity():
			return "", errInvalidIdentity
		default:
			return "", err
		}
	}
}

// run is the Running state (Paused and Finishing too): heartbeats and
// work. A change of capacity (a pause, a resume, other cores) is
// announced with a heartbeat at once. It returns errInvalidIdentity when
// the sentinel no longer knows the node.
func (c *Core) run(ctx context.Context, nodeID, name string, sessErr <-chan error) error {
	c.setWorkState(nodeID, name)
	// The first heartbeat goes at once: a node just claimed is online (and
	// given work) without waiting a whole interval.
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case err := <-sessErr:
				return err
			case <-c.beat:
			case <-c.clock.After(c.iv.Heartbeat):
			}
		}
		info, err := c.api.Heartbeat(ctx, c.capacity(), c.chunkOffer())
		var ae *APIError
		switch {
		case err == nil:
			c.setMaxParallel(info.MaxParallel)
			if st := c.State(); info.Name != "" && info.Name != st.Name && st.Phase.claimed() {
				c.setWorkState(st.NodeID, info.Name)
			}
		case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
			c.log.Warn("heartbeat refused, verifying the node again", "err", err)
			return c.reverify(ctx)
		default:
			return err
		}
	}
}

// reverify decides after a refused heartbeat: a node the sentinel still
// has (claimed) resumes through Verifying; an unknown one registers again.
func (c *Core) reverify(ctx context.Context) error {
	_, err := c.api.Verify(ctx)
	var ae *APIError
	if errors.As(err, &ae) && ae.InvalidIdentity() {
		return errInvalidIdentity
	}
	if err != nil {
		return err
	}
	return errReverified
}

// setMaxParallel applies the user's max_parallel: one of the policy's
// limits.
func (c *Core) setMaxParallel(n int) {
	if n <= 0 {
		return
	}
	c.mu.Lock()
	changed := c.maxParallel != n
	c.maxParallel = n
	c.mu.Unlock()
	if changed {
		c.log.Info("max parallel from the sentinel", "max_parallel", n)
		c.gov.SetMaxParallel(n)
		c.apply()
	}
}

// saveNodeID stores the node id in the config file (and this run's
// config). A new id is saved with the sentinel, API URL and anon key it
// belongs to, so the file never pairs an identity with another backend.
func (c *Core) saveNodeID(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	saved := c.saved
	saved.NodeID = id
	if id != "" {
		saved.SentinelURL, saved.APIURL, saved.AnonKey = c.config.SentinelURL, c.config.APIURL, c.config.AnonKey
	}
	if saved == c.saved && c.config.NodeID == id {
		return nil
	}
	if err := c.saveConfig(saved); err != nil {
		return err
	}
	c.saved = saved
	c.config.NodeID = id
	return nil
}

// SetAutoUpdate records in config.ini whether the node installs signed
// releases by itself (auto_update), for this run and the next.
func (c *Core) SetAutoUpdate(on bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	saved := c.saved
	saved.AutoUpdate = on
	if err := c.saveConfig(saved); err != nil {
		return err
	}
	c.saved = saved
	c.config.AutoUpdate = on
	return nil
}

// saveConfig writes the [node] section of config.ini.
func (c *Core) saveConfig(cfg Config) error {
	c.fileMu.Lock()
	defer c.fileMu.Unlock()
	return SaveConfig(c.opts.ConfigDir, cfg)
}

func (c *Core) onNodeRow(row NodeRow) {
	if row.MaxParallel > 0 {
		c.setMaxParallel(row.MaxParallel)
	}
	if row.Claimed() {
		select {
		case c.claimedCh <- struct{}{}:
		default:
		}
	}
	st := c.State()
	if st.Phase.claimed() && row.Name != "" && row.Name != st.Name {
		c.setWorkState(st.NodeID, row.Name)
	}
}

// drain ends the node's work at the end of Run: it tells the sentinel it
// is going offline (so no new work comes), lets running chunks finish
// within the grace period, hands back what did not, stops delivering
// results (those not delivered stay in the journal for the next start)
// and finally hands back any chunk the sentinel assigned it in the
// meantime. Every exchange with the sentinel is bounded by
// releaseTimeout, so an unreachable sentinel cannot hold the drain up.
func (c *Core) drain() {
	st := c.State()
	claimed := st.Phase.claimed() && st.NodeID != ""
	if claimed {
		ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
		if err := c.api.GoOffline(ctx); err != nil {
			c.log.Warn("could not tell the sentinel the node is leaving", "err", err)
		}
		cancel()
	}
	grace, cancel := context.WithTimeout(context.Background(), c.iv.Grace)
	defer cancel()
	if busy := c.pool.Busy(); busy > 0 {
		c.log.Info("finishing running chunks", "running", busy, "grace", c.iv.Grace)
	}
	var ids []string
	for _, j := range c.pool.Shutdown(grace) {
		ids = append(ids, j.ID)
	}
	c.releaseAll(ids)
	c.stopDeliver()
	c.reports.Wait()
	if claimed {
		c.releaseStragglers(st.NodeID)
	}
	if kept := len(c.held.list()); kept > 0 {
		c.log.Info("results kept for the next start of the node", "results", kept, "journal", c.held.path)
	}
	c.setConnection(Disconnected)
}

// releaseAll hands back chunks at once, all within one releaseTimeout.
func (c *Core) releaseAll(ids []string) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() { c.release(ctx, id) })
	}
	wg.Wait()
}

// releaseStragglers hands back the chunks still running on the node at the
// sentinel that this node has no result of: assigned while it shut down.
func (c *Core) releaseStragglers(nodeID string) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	tok, err := c.api.Token(ctx)
	if err == nil {
		var rest *supabase.REST
		cfg := c.Config()
		if rest, err = supabase.NewREST(cfg.APIURL, cfg.AnonKey, supabase.RESTOptions{HTTPClient: c.httpc, Token: tok.Token, Clock: c.clock}); err == nil {
			var chunks []Chunk
			if chunks, err = NewQueries(rest).RunningChunks(ctx, nodeID); err == nil {
				var ids []string
				for _, ch := range chunks {
					if _, taken := c.delivered.GetIfPresent(ch.ID); !taken && c.held.get(ch.ID) == nil {
						ids = append(ids, ch.ID)
					}
				}
				// Bounded like assignments; the sentinel reclaims any beyond.
				c.releaseAll(ids[:min(len(ids), c.maxInProgress())])
				return
			}
		}
	}
	c.log.Warn("could not check for chunks assigned during shutdown; the sentinel will reclaim any", "err", err)
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
