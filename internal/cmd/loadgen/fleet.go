package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"wowlab/node"
	"wowlab/protocol"
	"wowlab/sentinel"
	"wowlab/supabase"
)

// fleet is the simulated nodes and what they measured. A simulated node
// is the real node's protocol without the engine: its own Ed25519 key
// signing every node API request, its own node token, one Realtime socket
// with the node's three channels (its row, its chunks, presence tracked),
// heartbeats, and a fixed compute rate: a chunk of n iterations occupies
// one of its cores for n/rate seconds, then its result is posted.
type fleet struct {
	o     options
	c     *cluster
	httpc *http.Client
	log   *slog.Logger
	nodes []*simNode

	// holders maps a chunk id to the node that first received it.
	holders sync.Map

	dupFrames     atomic.Int64 // an assignment frame a node had already received
	assignedTwice atomic.Int64 // a chunk received by a second node
	completeErrs  atomic.Int64
	heartbeatErrs atomic.Int64
	runningCores  atomic.Int64 // cores running a chunk now, over the fleet

	mu          sync.Mutex
	jobStart    time.Time
	jobEnd      time.Time // when the completion that completed the job was answered
	latencies   []time.Duration
	completions []int // per second since jobStart
	busy        time.Duration
	iterations  int64
}

// simNode is one simulated node.
type simNode struct {
	f       *fleet
	ctx     context.Context // ends when the run stops the nodes
	index   int
	url     string
	api     *node.API
	id      string
	queries *node.Queries
	rt      *supabase.Realtime

	ready     chan struct{} // closed when its chunks channel is joined and its presence came back
	readyOnce sync.Once
	subbed    atomic.Bool
	present   atomic.Bool

	mu        sync.Mutex
	seen      map[string]bool
	queue     []node.Chunk
	idle      int         // cores not running a chunk
	freeSince []time.Time // when each free slot at the sentinel opened, oldest first
}

// maxConnsPerInstance bounds the HTTP connections the simulated nodes
// share to one sentinel instance. A real node holds its own; here ten
// thousand nodes' sockets and connections would pass the process's file
// limit, so their requests queue for one of these instead.
const maxConnsPerInstance = 2048

func newFleet(o options, c *cluster, log *slog.Logger) *fleet {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = maxConnsPerInstance
	t.MaxConnsPerHost = maxConnsPerInstance
	t.MaxIdleConns = 0
	return &fleet{o: o, c: c, log: log, httpc: &http.Client{Timeout: 30 * time.Second, Transport: t}}
}

// connect registers, claims and connects every node, at most o.connectParallel
// at once, and returns when all are ready or ctx ends.
func (f *fleet) connect(ctx context.Context) (ready int, err error) {
	f.nodes = make([]*simNode, f.o.nodes)
	sem := make(chan struct{}, f.o.connectParallel)
	errc := make(chan error, f.o.nodes)
	var wg sync.WaitGroup
	for i := range f.nodes {
		n := &simNode{f: f, index: i, url: f.c.urls[i%len(f.c.urls)], ready: make(chan struct{}), seen: map[string]bool{}, idle: f.o.cores}
		f.nodes[i] = n
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			err := n.start(ctx)
			if err == nil {
				select {
				case <-n.ready:
				case <-ctx.Done():
				}
			}
			<-sem
			if err != nil {
				errc <- fmt.Errorf("node %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errc)
	for _, n := range f.nodes {
		select {
		case <-n.ready:
			ready++
		default:
		}
	}
	var first error
	failed := 0
	for e := range errc {
		failed++
		if first == nil {
			first = e
		}
	}
	if first != nil {
		return ready, fmt.Errorf("%d nodes failed to connect; first: %w", failed, first)
	}
	return ready, ctx.Err()
}

// start registers the node, has the cluster's service claim it for the
// user (as `sentinel nodes claim` does), and starts its Realtime socket
// and heartbeats; they run until ctx ends.
func (n *simNode) start(ctx context.Context) error {
	f := n.f
	n.ctx = ctx
	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return err
	}
	id, err := node.NewIdentity(seed)
	if err != nil {
		return err
	}
	if n.api, err = node.NewAPI(n.url, id, node.APIOptions{HTTPClient: f.httpc}); err != nil {
		return err
	}
	reg, err := n.api.Register(ctx, protocol.RegisterRequest{
		Hostname: fmt.Sprintf("loadgen-%d", n.index), TotalCores: f.o.cores, EnabledCores: f.o.cores,
		Platform: "linux-amd64", Version: "loadgen", Chunks: f.offer(),
	})
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	n.id = reg.ID
	name := fmt.Sprintf("loadgen-%d", n.index)
	if _, err := f.c.svc.ClaimNode(ctx, sentinel.ClaimRequest{UserID: f.c.userID, Code: reg.ClaimCode, Name: &name, MaxParallel: &f.o.cores}); err != nil {
		return fmt.Errorf("claim: %w", err)
	}
	tok, err := n.api.Token(ctx)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	rest, err := supabase.NewREST(n.url, f.c.anonKey, supabase.RESTOptions{HTTPClient: f.httpc, Token: tok.Token})
	if err != nil {
		return err
	}
	n.queries = node.NewQueries(rest)
	n.rt, err = supabase.NewRealtime(supabase.RealtimeOptions{
		APIURL: n.url, APIKey: f.c.anonKey, AccessToken: tok.Token, HTTPClient: f.httpc,
		Backoff:  supabase.Backoff{Initial: time.Second, Max: 10 * time.Second, Jitter: time.Second},
		OnStatus: func(st supabase.Status) { n.status(ctx, st) },
	})
	if err != nil {
		return err
	}
	if _, err := n.rt.Subscribe("node:"+n.id, supabase.ChannelConfig{Changes: []supabase.ChangeBinding{
		{Event: "*", Schema: "public", Table: "nodes", Filter: "id=eq." + n.id, OnChange: func(supabase.Change) {}},
	}}); err != nil {
		return err
	}
	if _, err := n.rt.Subscribe("chunks:"+n.id, supabase.ChannelConfig{Changes: []supabase.ChangeBinding{
		{Event: "*", Schema: "public", Table: "jobs_chunks", Filter: "node_id=eq." + n.id, OnChange: n.change},
	}}); err != nil {
		return err
	}
	pres, err := n.rt.Subscribe("nodes:presence", supabase.ChannelConfig{
		Presence:        supabase.PresenceConfig{Key: n.id, Enabled: true},
		OnPresenceState: func(s supabase.PresenceState) { n.presence(s) },
		OnPresenceDiff:  func(d supabase.PresenceDiff) { n.presence(d.Joins) },
	})
	if err != nil {
		return err
	}
	go func() { _ = n.rt.Run(ctx) }()
	go func() {
		if err := pres.Track(ctx, map[string]string{"node_id": n.id}); err != nil && ctx.Err() == nil {
			f.log.Warn("presence track failed", "node", n.id, "err", err)
		}
	}()
	go n.heartbeats(ctx)
	return nil
}

func (n *simNode) status(ctx context.Context, st supabase.Status) {
	if st.Kind == supabase.StatusSubscribed && st.Topic == "realtime:chunks:"+n.id {
		n.subbed.Store(true)
		n.checkReady()
		go n.resync(ctx)
	}
}

func (n *simNode) presence(s supabase.PresenceState) {
	if _, ok := s[n.id]; ok {
		n.present.Store(true)
		n.checkReady()
	}
}

func (n *simNode) checkReady() {
	if n.subbed.Load() && n.present.Load() {
		n.readyOnce.Do(func() { close(n.ready) })
	}
}

// heartbeats sends the protocol's heartbeat every 15 s, the first at a
// random point of the first interval so the fleet's are spread out.
func (n *simNode) heartbeats(ctx context.Context) {
	const every = 15 * time.Second
	wait := time.Duration(float64(every) * float64(n.index%997) / 997)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = every
		if _, err := n.api.Heartbeat(ctx, n.f.o.cores, n.f.offer()); err != nil && ctx.Err() == nil {
			n.f.heartbeatErrs.Add(1)
		}
	}
}

// resync takes the node's running chunks after a (re)join, as the real
// node does: changes sent while it was not joined are not replayed.
func (n *simNode) resync(ctx context.Context) {
	chunks, err := n.queries.RunningChunks(ctx, n.id)
	if err != nil {
		return
	}
	for _, ch := range chunks {
		n.assign(ch, true)
	}
}

func (n *simNode) change(c supabase.Change) {
	if c.Type == supabase.ChangeDelete {
		return
	}
	var ch node.Chunk
	if err := json.Unmarshal(c.Record, &ch); err != nil || ch.Status != protocol.StatusRunning || ch.NodeID != n.id {
		return
	}
	n.assign(ch, false)
}

// assign queues a chunk assigned to this node. A frame for a chunk the
// node already received counts as a duplicate (a resync's listing does
// not); a chunk another node received first counts as assigned twice.
func (n *simNode) assign(ch node.Chunk, resync bool) {
	now := time.Now()
	n.mu.Lock()
	if n.seen[ch.ID] {
		n.mu.Unlock()
		if !resync {
			n.f.dupFrames.Add(1)
		}
		return
	}
	n.seen[ch.ID] = true
	var latency time.Duration = -1
	if len(n.freeSince) > 0 {
		latency = now.Sub(n.freeSince[0])
		n.freeSince = n.freeSince[1:]
	}
	n.queue = append(n.queue, ch)
	n.mu.Unlock()
	if prev, loaded := n.f.holders.LoadOrStore(ch.ID, n.id); loaded && prev != n.id {
		n.f.assignedTwice.Add(1)
	}
	if latency >= 0 {
		n.f.addLatency(latency)
	}
	n.runQueued()
}

// chunkWorkers is how many of a node's cores one chunk occupies: all of
// them for sized chunks (the node runs a chunk on all its workers), one
// for the protocol's fixed 1 000-iteration chunks, which run one per
// worker.
func (n *simNode) chunkWorkers() int {
	if n.f.o.sized {
		return n.f.o.cores
	}
	return 1
}

// offer is the sized-chunk offer of every simulated node (nil without
// --sized): chunks as large as the real node takes, at the simulated
// throughput.
func (f *fleet) offer() *protocol.ChunkOffer {
	if !f.o.sized {
		return nil
	}
	return &protocol.ChunkOffer{MaxIterations: node.MaxChunkIterations, Throughput: f.o.rate * float64(f.o.cores)}
}

// runQueued starts queued chunks on idle cores.
func (n *simNode) runQueued() {
	for {
		n.mu.Lock()
		w := n.chunkWorkers()
		if len(n.queue) == 0 || n.idle < w {
			n.mu.Unlock()
			return
		}
		ch := n.queue[0]
		n.queue = n.queue[1:]
		n.idle -= w
		n.mu.Unlock()
		n.f.runningCores.Add(int64(w))
		d := time.Duration(float64(ch.Iterations) / (n.f.o.rate * float64(w)) * float64(time.Second))
		time.AfterFunc(d, func() { n.finish(ch, d, w) })
	}
}

// finish posts a finished chunk's result and frees its cores.
func (n *simNode) finish(ch node.Chunk, took time.Duration, workers int) {
	n.f.addBusy(took*time.Duration(workers), ch.Iterations)
	n.f.runningCores.Add(-int64(workers))
	n.mu.Lock()
	n.idle += workers
	n.mu.Unlock()
	n.runQueued()
	res := protocol.ChunkResult{Iterations: ch.Iterations, MeanDps: 1000, StdDps: 0, MinDps: 1000, MaxDps: 1000}
	// As the real node, it keeps the result until the sentinel takes it.
	backoff := supabase.Backoff{Initial: time.Second, Max: 10 * time.Second, Jitter: time.Second}
	var resp protocol.CompleteResponse
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(n.ctx, 30*time.Second)
		var err error
		resp, err = n.api.Complete(ctx, ch.ID, res)
		cancel()
		if err == nil {
			break
		}
		if n.ctx.Err() != nil {
			return // the run is over
		}
		n.f.completeErrs.Add(1)
		n.f.log.Warn("complete failed; retrying", "node", n.id, "chunk", ch.ID, "attempt", attempt+1, "err", err)
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(backoff.Delay(attempt)):
		}
	}
	now := time.Now()
	n.mu.Lock()
	n.freeSince = append(n.freeSince, now)
	n.mu.Unlock()
	n.f.addCompletion(now, resp.JobComplete && !resp.AlreadyCompleted)
}

// beginJob starts the job's measurement: every node's slots at the
// sentinel (workers plus prefetch) are free from now.
func (f *fleet) beginJob(now time.Time) {
	f.mu.Lock()
	f.jobStart = now
	f.mu.Unlock()
	w := f.o.cores
	if f.o.sized {
		w = 1 // one chunk on all cores
	}
	slots := w + sentinel.Prefetch(w)
	for _, n := range f.nodes {
		n.mu.Lock()
		for range slots {
			n.freeSince = append(n.freeSince, now)
		}
		n.mu.Unlock()
	}
}

func (f *fleet) addLatency(d time.Duration) {
	f.mu.Lock()
	f.latencies = append(f.latencies, d)
	f.mu.Unlock()
}

func (f *fleet) addBusy(d time.Duration, iterations int) {
	f.mu.Lock()
	f.busy += d
	f.iterations += int64(iterations)
	f.mu.Unlock()
}

func (f *fleet) addCompletion(now time.Time, jobDone bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.jobStart.IsZero() {
		return
	}
	sec := int(now.Sub(f.jobStart) / time.Second)
	for len(f.completions) <= sec {
		f.completions = append(f.completions, 0)
	}
	f.completions[sec]++
	if jobDone {
		f.jobEnd = now
	}
}

// percentile returns the p-th percentile (0-100) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// jobStats are the fleet's figures of the job phase.
type jobStats struct {
	wall                   time.Duration
	latencies              []time.Duration
	completions            int
	meanPerSec, peakPerSec float64
	iterations             int64
	busy                   time.Duration
}

func (f *fleet) stats(end time.Time) jobStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.jobEnd.IsZero() {
		end = f.jobEnd
	}
	s := jobStats{wall: end.Sub(f.jobStart), latencies: slices.Clone(f.latencies), iterations: f.iterations, busy: f.busy}
	slices.Sort(s.latencies)
	for i, c := range f.completions {
		s.completions += c
		// The last second is partial; it does not set the peak.
		if i < len(f.completions)-1 {
			s.peakPerSec = max(s.peakPerSec, float64(c))
		}
	}
	if s.wall > 0 {
		s.meanPerSec = float64(s.completions) / s.wall.Seconds()
	}
	return s
}
