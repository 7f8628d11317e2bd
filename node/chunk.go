package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"wowlab/node/worker"
	"wowlab/protocol"
	"wowlab/supabase"
)

// releaseTimeout bounds each hand-back and each result delivery attempt
// at shutdown.
const releaseTimeout = 10 * time.Second

// recentlyDelivered is how long the node remembers a chunk whose result the
// sentinel took. The chunk is completed there, so an assignment of it soon
// after is an echo (a resync that listed the chunk while its result was on
// the way) and is ignored; after that a chunk assigned again runs again.
const recentlyDelivered = 2 * time.Minute

// maxFailReports bounds the failure reports of unusable assignments in
// flight, so a flood of them cannot pile up goroutines.
const maxFailReports = 16

// assign starts work on an assigned chunk unless it is in progress, its
// result waits for the sentinel (then the result is delivered now instead)
// or the sentinel just took its result. A paused or finishing node hands
// it back at once.
func (c *Core) assign(ch Chunk) {
	if err := ch.validate(); err != nil {
		c.refuse(ch, err)
		return
	}
	c.mu.Lock()
	// The checks follow a chunk's way through the node: in progress, held,
	// delivered. Each step is recorded before the previous one is forgotten,
	// so no assignment slips between two of them.
	if c.inProgress[ch.ID] != nil {
		c.mu.Unlock()
		c.log.Debug("ignoring duplicate assignment", "chunk", ch.ID)
		return
	}
	if h := c.held.get(ch.ID); h != nil {
		if sameRange(h.Chunk, ch) {
			c.mu.Unlock()
			c.log.Info("chunk assigned again while its result waits for the sentinel; delivering the result now", "chunk", ch.ID)
			h.nudge()
			return
		}
		// The sentinel gave the chunk back out with another range (it
		// split the row after a reclaim): the result held is of iterations
		// the chunk no longer names, and the new range runs.
		if _, err := c.held.remove(h); err != nil {
			c.log.Error("could not write the results journal", "chunk", ch.ID, "err", err)
		}
		h.nudge() // its delivery sees it is no longer held and ends
		c.log.Warn("chunk assigned again with another range than the result held; running the new range",
			"chunk", ch.ID, "held_iterations", h.Chunk.Iterations, "held_seed_offset", h.Chunk.SeedOffset,
			"iterations", ch.Iterations, "seed_offset", ch.SeedOffset)
	}
	if _, ok := c.delivered.GetIfPresent(ch.ID); ok {
		c.mu.Unlock()
		c.log.Debug("ignoring assignment of a chunk whose result the sentinel took", "chunk", ch.ID)
		return
	}
	if limit := c.maxInProgress(); c.active >= limit {
		c.mu.Unlock()
		c.warnings.overloaded.warn(c.log, c.clock.Now(), "ignoring an assignment beyond what this node can hold; a resync or the chunk time limit gives it out again",
			"chunk", ch.ID, "in_progress", limit)
		return
	}
	t := &tracked{chunk: ch}
	c.inProgress[ch.ID] = t
	c.active++
	if !c.takesWorkLocked() {
		c.mu.Unlock()
		c.log.Info("handing back a chunk assigned while the node takes no work", "chunk", ch.ID, "state", c.State().String())
		go c.release(context.Background(), ch.ID)
		return
	}
	c.emitLocked(Event{Kind: ChunkAssigned, Chunk: ch})
	c.mu.Unlock()
	c.log.Info("chunk assigned", "chunk", ch.ID, "iterations", ch.Iterations, "seed_offset", ch.SeedOffset)
	err := c.pool.Submit(worker.Job{ID: ch.ID, Run: func(ctx context.Context) error {
		t.started.Store(c.clock.Now().UnixNano())
		return c.process(ctx, ch, t)
	}})
	if errors.Is(err, worker.ErrClosed) {
		go c.release(context.Background(), ch.ID) // shutting down: hand it back at once
	}
}

// sameRange reports whether a held result's chunk and an assignment of
// the same id name the same iterations of the same config.
func sameRange(held, ch Chunk) bool {
	return held.Iterations == ch.Iterations && held.SeedOffset == ch.SeedOffset && held.ConfigHash == ch.ConfigHash
}

// threads is how many goroutines a chunk runs on (the engine's batch
// runner): as many as the computer has cores. The core gate lets as many
// of them simulate at once, over all the chunks held, as the policies
// allow, so a lone chunk runs on all allowed cores and chunks side by side
// share them.
func (c *Core) threads() int { return max(1, c.host.TotalCores) }

// announceSlack is how far the node's throughput may move from the one it
// announced before it heartbeats early (the sentinel ignores smaller moves).
const announceSlack = 0.1

// chunkOffer is what the node announces with registration and heartbeats
// (the sized-chunk extension): chunks up to MaxChunkIterations, and its
// throughput now; nothing with Options.FixedChunks.
func (c *Core) chunkOffer() *protocol.ChunkOffer {
	if c.opts.FixedChunks {
		return nil
	}
	tp := c.throughput()
	c.announced.Store(math.Float64bits(tp))
	return &protocol.ChunkOffer{MaxIterations: MaxChunkIterations, Throughput: tp}
}

// throughput is the node's measured speed per core times the cores the
// policies allow now: iterations per second over all its workers (0
// before it has simulated anything).
func (c *Core) throughput() float64 {
	perCore := c.speed.sample(c.meter.simulated(), c.gate.busyTime())
	c.mu.Lock()
	cores := c.decision.Cores
	c.mu.Unlock()
	return min(perCore*float64(cores), protocol.MaxThroughput)
}

// announceSpeed heartbeats early when the throughput was first measured or
// moved by more than announceSlack from the one announced, so the sentinel
// sizes the next chunks from it rather than a heartbeat interval later.
func (c *Core) announceSpeed() {
	if c.opts.FixedChunks {
		return
	}
	tp := c.throughput()
	last := math.Float64frombits(c.announced.Load())
	if tp > 0 && (last == 0 || math.Abs(tp-last) > announceSlack*last) {
		c.heartbeatNow()
	}
}

// maxInProgress bounds the chunks the node works on or has queued. The
// sentinel gives at most two per worker and a node has at most TotalCores
// workers; the margin covers chunks it reclaimed while this node kept
// running them.
func (c *Core) maxInProgress() int {
	return 4 * max(1, c.host.TotalCores, c.host.EnabledCores)
}

// refuse reports an assignment that cannot be run with /chunks/fail, so the
// sentinel gives it to another node, unless it does not name a chunk.
func (c *Core) refuse(ch Chunk, err error) {
	c.warnings.unusable.warn(c.log, c.clock.Now(), "refusing an unusable assignment", "chunk", fmt.Sprintf("%.40q", ch.ID), "err", err)
	if uuid.Validate(ch.ID) != nil {
		return
	}
	select {
	case c.failReports <- struct{}{}:
	default:
		return // too many in flight; the sentinel times the chunk out
	}
	go func() {
		defer func() { <-c.failReports }()
		c.reportFail(context.Background(), ch, err)
	}()
}

// forget forgets a chunk as in progress: it finished (its result is held
// by now), failed or was handed back.
func (c *Core) forget(id string) {
	c.mu.Lock()
	if c.inProgress[id] != nil {
		delete(c.inProgress, id)
		c.active--
	}
	c.mu.Unlock()
	c.signalSettled()
}

// process runs one chunk. It returns an error wrapping context.Canceled
// only when the drain grace period cut it off (the chunk is then released).
func (c *Core) process(ctx context.Context, ch Chunk, t *tracked) error {
	doc, err := c.buildConfig(ctx, ch.ConfigHash)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("chunk %s: %w", ch.ID, ctx.Err())
		}
		c.reportFail(ctx, ch, err)
		return nil
	}
	var last atomic.Int64
	progress := func(done int) {
		t.done.Store(int64(done))
		prev := last.Swap(int64(done))
		c.meter.addIterations(int64(done)-prev, c.clock.Now())
	}
	gate := chunkGate{g: c.gate, order: c.started.Add(1)}
	res, err := c.sim.run(ctx, simRun{config: doc, offset: ch.SeedOffset, n: ch.Iterations, threads: c.threads(), gate: gate, progress: progress})
	if err == nil {
		err = res.Validate(ch.Iterations)
	}
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return fmt.Errorf("chunk %s: %w", ch.ID, ctx.Err())
		}
		c.reportFail(ctx, ch, err)
		return nil
	}
	c.hold(newHeldResult(ch, res, c.clock.Now()))
	c.announceSpeed()
	return nil
}

// hold keeps a finished result, in memory and in the journal, forgets its
// chunk as in progress and delivers the result in the background: the
// worker takes its next chunk at once instead of waiting for the
// sentinel's answer.
func (c *Core) hold(h *heldResult) {
	dropped, err := c.held.add(h)
	if err != nil {
		c.log.Error("could not write the results journal; the result is kept in memory only", "chunk", h.Chunk.ID, "err", err)
	}
	if dropped != nil {
		c.log.Warn("results journal full; dropping its oldest result (the sentinel reassigns that chunk)",
			"chunk", dropped.Chunk.ID, "held", MaxHeldResults)
	}
	// Held before forgotten (see assign), and forgotten before the delivery
	// can settle: a chunk assigned again after a refusal must run again.
	c.forget(h.Chunk.ID)
	c.reports.Add(1)
	go c.deliver(h)
}

// deliver posts a held result until the sentinel takes it or refuses it for
// good, waiting between attempts with capped, jittered backoff (an
// assignment of the chunk cuts a wait short). After the drain stopped
// deliveries it makes at most the attempt under way; the result then stays
// in the journal for the next start.
func (c *Core) deliver(h *heldResult) {
	defer c.reports.Done()
	id := h.Chunk.ID
	backoff := supabase.Backoff{Initial: c.iv.ResultRetry, Max: c.iv.ResultRetryMax, Jitter: c.iv.ResultRetryMax / 2}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if c.stopping.Err() != nil {
				return
			}
			select {
			case <-c.stopping.Done():
				return
			case <-h.wake:
			case <-c.clock.After(backoff.Delay(attempt - 1)):
			}
		}
		if c.held.get(id) != h {
			c.log.Debug("result no longer held; not delivering it", "chunk", id)
			c.signalSettled()
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.stopping), releaseTimeout)
		resp, err := c.api.Complete(ctx, id, h.Result)
		cancel()
		if err == nil || !retryDelivery(err) {
			c.backendAnswered()
		}
		switch {
		case err == nil:
			c.settle(h, true)
			c.meter.chunkDone(true)
			c.log.Info("chunk completed", "chunk", id, "iterations", h.Result.Iterations, "mean_dps", h.Result.MeanDps,
				"attempts", attempt+1, "already_completed", resp.AlreadyCompleted)
			c.emit(Event{Kind: ChunkCompleted, Chunk: h.Chunk, Result: h.Result})
			return
		case !retryDelivery(err):
			c.settle(h, false)
			c.meter.chunkDone(false)
			c.log.Warn("chunk result refused", "chunk", id, "err", err)
			c.emit(Event{Kind: ChunkFailed, Chunk: h.Chunk, Err: err})
			return
		case attempt == 0:
			c.log.Warn("sentinel unavailable; the result is kept until it takes it", "chunk", id, "err", err)
		default:
			c.log.Debug("result delivery failed again", "chunk", id, "attempt", attempt+1, "err", err)
		}
	}
}

// retryDelivery reports whether a result refused with err may be taken
// later: the sentinel could not be reached or failed (network, 5xx, 429),
// refused the signature (a clock off, a repeat), or the answer was not the
// sentinel's own (a proxy's error page). A refusal in the sentinel's words
// (this node never held the chunk, no such chunk or node, a result it
// cannot use or a chunk that failed) is final.
func retryDelivery(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) || ServerUnavailable(err) {
		return true
	}
	return ae.Status == http.StatusUnauthorized || ae.Status == http.StatusRequestTimeout || !ae.Refusal
}

// settle forgets a delivered or refused result. A chunk whose result the
// sentinel took is remembered for recentlyDelivered first.
func (c *Core) settle(h *heldResult, taken bool) {
	if taken {
		c.delivered.Set(h.Chunk.ID, struct{}{})
	}
	if _, err := c.held.remove(h); err != nil {
		c.log.Error("could not write the results journal; the next start offers the result again", "chunk", h.Chunk.ID, "err", err)
	}
	c.signalSettled()
}

// buildConfig returns the engine document of a chunk: the stored config
// with its rotation script as field "rotation".
func (c *Core) buildConfig(ctx context.Context, hash string) ([]byte, error) {
	raw, ok := c.cache.Config(hash)
	if !ok {
		err := supabase.Retry(ctx, c.fetchPolicy(), func(ctx context.Context) error {
			q := c.queries()
			if q == nil {
				return &supabase.NetworkError{Op: "GET jobs_configs", Err: errors.New("not connected")}
			}
			var err error
			raw, err = q.Config(ctx, hash)
			return err
		})
		if err != nil {
			return nil, err
		}
		c.cache.SetConfig(hash, raw)
	}
	return c.withRotation(ctx, raw)
}

// withRotation puts the rotation script named by the config's rotationId
// into the config; a config without rotationId is used as it is.
func (c *Core) withRotation(ctx context.Context, raw json.RawMessage) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil || doc == nil {
		return nil, errors.New("config is not a JSON object")
	}
	ridRaw, ok := doc["rotationId"]
	if !ok || string(ridRaw) == "null" {
		return raw, nil
	}
	var rid string
	if err := json.Unmarshal(ridRaw, &rid); err != nil || rid == "" {
		return nil, errors.New("config field rotationId is not a non-empty string")
	}
	var rot Rotation
	err := supabase.Retry(ctx, c.fetchPolicy(), func(ctx context.Context) error {
		q := c.queries()
		if q == nil {
			return &supabase.NetworkError{Op: "GET rotations", Err: errors.New("not connected")}
		}
		var err error
		rot, err = q.Rotation(ctx, rid)
		return err
	})
	if err != nil {
		return nil, err
	}
	script, ok := c.cache.Rotation(rid, rot.Checksum)
	if !ok {
		c.cache.SetRotation(rot)
		script = rot.Script
	}
	enc, err := json.Marshal(script)
	if err != nil {
		return nil, fmt.Errorf("encode rotation: %w", err)
	}
	doc["rotation"] = enc
	return json.Marshal(doc)
}

// report retries a node API call while the sentinel is unavailable. The
// request itself survives the drain's cancellation; waiting between
// attempts does not.
func (c *Core) report(ctx context.Context, call func(context.Context) error) error {
	var err error
	for attempt := 0; attempt < c.iv.ReportAttempts; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return err
			case <-c.clock.After(supabase.Backoff{Initial: c.iv.FetchRetry, Max: 30 * time.Second}.Delay(attempt - 1)):
			}
		}
		if err = call(context.WithoutCancel(ctx)); err == nil || !ServerUnavailable(err) {
			return err
		}
	}
	return err
}

func (c *Core) reportFail(ctx context.Context, ch Chunk, cause error) {
	c.meter.chunkDone(false)
	c.log.Warn("chunk failed", "chunk", ch.ID, "err", cause)
	err := c.report(ctx, func(ctx context.Context) error {
		_, err := c.api.Fail(ctx, ch.ID, cause.Error())
		return err
	})
	c.forget(ch.ID)
	if err != nil {
		c.log.Warn("reporting the failure failed; the sentinel will reclaim the chunk", "chunk", ch.ID, "err", err)
	}
	c.emit(Event{Kind: ChunkFailed, Chunk: ch, Err: cause})
}

// release hands back a chunk the node will not finish, within ctx and at
// most releaseTimeout.
func (c *Core) release(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(ctx, releaseTimeout)
	defer cancel()
	_, err := c.api.Release(ctx, id)
	c.forget(id)
	if err != nil {
		c.log.Warn("release failed; the sentinel will reclaim the chunk", "chunk", id, "err", err)
		return
	}
	c.log.Info("chunk released", "chunk", id)
	c.emit(Event{Kind: ChunkReleased, Chunk: Chunk{ID: id}})
}
