package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"wowlab/node/worker"
	"wowlab/protocol"
	"wowlab/supabase"
)

// releaseTimeout bounds each hand-back at shutdown.
const releaseTimeout = 10 * time.Second

// assign starts work on an assigned chunk unless it is in progress or done.
func (c *Core) assign(ch Chunk) {
	if err := ch.validate(); err != nil {
		c.log.Warn("ignoring unusable assignment", "chunk", ch.ID, "err", err)
		if ch.ID != "" {
			go c.reportFail(context.Background(), ch, err)
		}
		return
	}
	c.mu.Lock()
	if _, done := c.done.GetIfPresent(ch.ID); done || c.inProgress[ch.ID] {
		c.mu.Unlock()
		c.log.Debug("ignoring duplicate assignment", "chunk", ch.ID)
		return
	}
	c.inProgress[ch.ID] = true
	c.active++
	c.emitLocked(Event{Kind: ChunkAssigned, Chunk: ch})
	c.mu.Unlock()
	c.log.Info("chunk assigned", "chunk", ch.ID, "iterations", ch.Iterations, "seed_offset", ch.SeedOffset)
	err := c.pool.Submit(worker.Job{ID: ch.ID, Run: func(ctx context.Context) error { return c.process(ctx, ch) }})
	if errors.Is(err, worker.ErrClosed) {
		go c.release(ch.ID) // shutting down: hand it back at once
	}
}

// finish forgets a chunk as in progress and remembers it as done, so a
// repeated assignment of it is ignored.
func (c *Core) finish(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopLocked(id)
	c.done.Set(id, struct{}{})
}

// forget forgets a chunk as in progress without remembering it as done: a
// chunk this node failed or handed back goes back to pending, and when the
// sentinel gives it to this node again it must run again.
func (c *Core) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopLocked(id)
}

func (c *Core) stopLocked(id string) {
	if c.inProgress[id] {
		delete(c.inProgress, id)
		c.active--
	}
}

// process runs one chunk. It returns an error wrapping context.Canceled
// only when the drain grace period cut it off (the chunk is then released).
func (c *Core) process(ctx context.Context, ch Chunk) error {
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
		prev := last.Swap(int64(done))
		c.meter.addIterations(int64(done)-prev, c.clock.Now())
	}
	res, err := c.sim.run(ctx, doc, ch.SeedOffset, ch.Iterations, progress)
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
	// The result is posted in the background so the worker takes its next
	// chunk at once instead of waiting for the sentinel's answer; drain
	// waits for these posts.
	c.reports.Go(func() { c.reportComplete(context.WithoutCancel(ctx), ch, res) })
	return nil
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

func (c *Core) reportComplete(ctx context.Context, ch Chunk, res protocol.ChunkResult) {
	err := c.report(ctx, func(ctx context.Context) error {
		_, err := c.api.Complete(ctx, ch.ID, res)
		return err
	})
	c.finish(ch.ID)
	if err != nil {
		c.meter.chunkDone(false)
		c.log.Warn("chunk result refused", "chunk", ch.ID, "err", err)
		c.emit(Event{Kind: ChunkFailed, Chunk: ch, Err: err})
		return
	}
	c.meter.chunkDone(true)
	c.log.Info("chunk completed", "chunk", ch.ID, "iterations", res.Iterations, "mean_dps", res.MeanDps)
	c.emit(Event{Kind: ChunkCompleted, Chunk: ch, Result: res})
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

// release hands back a chunk the node will not finish.
func (c *Core) release(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
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
