package node

// The volunteer's controls of a running node and the policy that decides
// how many workers run: Pause, Resume, Finish, SetCores and
// UpdateSettings, each visible in State, in events and, through the
// heartbeat's capacity, at the sentinel at once.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"wowlab/node/policy"
)

// ErrFinishing is returned by the controls that cannot apply once Finish
// was called.
var ErrFinishing = errors.New("the node is finishing: it takes no new chunks and stops after those it holds")

// tracked is a chunk the node holds, queued or running.
type tracked struct {
	chunk   Chunk
	started atomic.Int64 // unix nanoseconds when a worker started it; 0 while queued
	done    atomic.Int64 // iterations simulated so far
}

// Chunks returns the chunks the node holds, running ones first, then by id.
func (c *Core) Chunks() []ChunkProgress {
	c.mu.Lock()
	out := make([]ChunkProgress, 0, len(c.inProgress))
	for _, t := range c.inProgress {
		p := ChunkProgress{Chunk: t.chunk, Done: int(t.done.Load())}
		if ns := t.started.Load(); ns != 0 {
			p.Running, p.Started = true, time.Unix(0, ns)
		}
		out = append(out, p)
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b ChunkProgress) int {
		if a.Running != b.Running {
			if a.Running {
				return -1
			}
			return 1
		}
		if a.Chunk.ID < b.Chunk.ID {
			return -1
		}
		if a.Chunk.ID > b.Chunk.ID {
			return 1
		}
		return 0
	})
	return out
}

// Policy returns the settings in force and what they decide now.
func (c *Core) Policy() policy.Status { return c.gov.Status() }

// Pause takes no new chunks until Resume: queued chunks are handed back at
// once and the sentinel is told the node's capacity is 0. Running chunks
// finish, unless now, when they are stopped and handed back too (none is
// lost: the sentinel gives each to another node).
func (c *Core) Pause(now bool) error {
	c.gov.Pause()
	c.apply()
	if now {
		var ids []string
		for _, j := range c.pool.Interrupt() {
			ids = append(ids, j.ID)
		}
		if len(ids) > 0 {
			c.log.Info("handing back the running chunks", "chunks", len(ids))
			c.releaseAll(ids)
		}
	}
	return nil
}

// Resume ends a Pause; the policies still apply (a schedule or a busy
// computer may keep the node paused, with that reason).
func (c *Core) Resume() error {
	if c.finishRequested() {
		return ErrFinishing
	}
	c.gov.Resume()
	c.apply()
	return nil
}

// Finish takes no new chunks and finishes those the node holds (running
// and queued, unless paused); then Run drains and returns nil. Results on
// their way to the sentinel get the grace period to arrive.
func (c *Core) Finish() error {
	c.mu.Lock()
	if c.finishing {
		c.mu.Unlock()
		return ErrFinishing
	}
	c.finishing = true
	c.mu.Unlock()
	close(c.finishCh)
	c.log.Info("finishing: no new chunks; the node stops after those it holds", "chunks", c.Stats().ActiveChunks)
	c.apply()
	c.heartbeatNow() // the capacity fell to 0 before apply looked
	return nil
}

// SetCores sets the cores setting (0: the machine's default), saves it
// to config.ini and applies it at once: a larger count starts workers at
// once, a smaller one lets the surplus workers finish their chunk first.
// The policies still limit it.
func (c *Core) SetCores(n int) error {
	return c.UpdateSettings(policy.Overrides{"cores": strconv.Itoa(n)})
}

// UpdateSettings validates the changed settings, saves them to config.ini
// (atomically) and applies them without a restart. An invalid setting is
// a *policy.KeyError and changes nothing.
func (c *Core) UpdateSettings(o policy.Overrides) error {
	err := c.gov.Update(o, func(s policy.Settings) error {
		c.fileMu.Lock()
		defer c.fileMu.Unlock()
		return SavePolicy(c.opts.ConfigDir, s)
	})
	if err != nil {
		return err
	}
	c.apply()
	return nil
}

// Unlink finishes the node (see Finish) and then makes it forget its
// identity: once every result it holds has reached the sentinel, its
// node_id and key pair are deleted from the config directory, so that the
// next start registers a new node with a new claim code. Results that did
// not reach the sentinel are signed by this identity, so they keep it: the
// node then finishes linked, saying why (State.Err). The sentinel keeps
// the old node until its owner deletes it or it goes stale.
func (c *Core) Unlink() error {
	c.mu.Lock()
	c.unlinking = true
	c.mu.Unlock()
	c.log.Info("unlinking: the node finishes what it holds, then forgets its identity")
	if err := c.Finish(); err != nil && !errors.Is(err, ErrFinishing) {
		return err
	}
	return nil
}

func (c *Core) unlinkRequested() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unlinking
}

// forgetIdentity deletes the identity after an Unlink, when no result needs it,
// and returns the finished state that says what happened: the node id
// first, so that a key that cannot be deleted only links the same node
// again at the next start.
func (c *Core) forgetIdentity(st State) State {
	if n := len(c.held.list()); n > 0 {
		st.Err = fmt.Sprintf("not unlinked: %d results have not reached the sentinel and need this node's key; start the node again to deliver them, then unlink", n)
		c.log.Warn(st.Err)
		return st
	}
	if err := c.saveNodeID(""); err != nil {
		st.Err = "not unlinked: " + err.Error()
		c.log.Error(st.Err)
		return st
	}
	if err := os.Remove(filepath.Join(c.opts.ConfigDir, KeyFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		st.Err = "not unlinked: " + err.Error()
		c.log.Error(st.Err)
		return st
	}
	c.log.Info("unlinked: the next start registers a new node", "previous", st.NodeID)
	st.NodeID, st.Unlinked = "", true
	return st
}

func (c *Core) finishRequested() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.finishing
}

// follow applies every new decision of the governor until ctx ends.
func (c *Core) follow(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.gov.Changed():
			c.apply()
		}
	}
}

// apply makes the pool and the state follow the governor's decision: a
// paused node runs no worker and hands its queued chunks back, otherwise
// the pool has the cores decided. A change of capacity is heartbeated at
// once.
func (c *Core) apply() {
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	d := c.gov.Decision()
	c.mu.Lock()
	before := c.capacityLocked()
	c.decision = d
	after := c.capacityLocked()
	c.mu.Unlock()
	c.pool.Resize(d.Cores)
	if d.Cores > 0 { // a paused node's running chunks finish on the cores they had
		c.gate.setLimit(d.Cores)
	}
	if st := c.State(); st.Phase.claimed() {
		c.setWorkState(st.NodeID, st.Name)
	}
	if before != after {
		c.log.Info("capacity", "chunks", after, "rule", string(d.Rule))
		c.heartbeatNow()
	}
	if d.Paused() {
		var ids []string
		for _, j := range c.pool.Unqueue() {
			ids = append(ids, j.ID)
		}
		if len(ids) > 0 {
			c.log.Info("paused: handing back the queued chunks", "chunks", len(ids), "rule", string(d.Rule))
			c.releaseAll(ids)
		}
	}
}

// heartbeatNow makes the run loop send a heartbeat at once.
func (c *Core) heartbeatNow() {
	select {
	case c.beat <- struct{}{}:
	default:
	}
}

// capacity is what the heartbeat reports: the workers the node runs, 0
// while it is paused or finishing.
func (c *Core) capacity() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.capacityLocked()
}

func (c *Core) capacityLocked() int {
	if c.finishing || c.decision.Paused() {
		return 0
	}
	return c.decision.Cores
}

// takesWork reports whether an assignment now may run here.
func (c *Core) takesWorkLocked() bool { return !c.finishing && !c.decision.Paused() }

// setWorkState sets the state of a claimed node: Finishing, Paused with
// the deciding rule, or Running.
func (c *Core) setWorkState(nodeID, name string) {
	c.mu.Lock()
	st := State{Phase: Running, NodeID: nodeID, Name: name}
	switch {
	case c.finishing:
		st.Phase = Finishing
	case c.decision.Paused():
		st.Phase, st.Reason = Paused, c.decision.Rule
	}
	c.mu.Unlock()
	c.setState(st)
}

// signalSettled tells awaitFinish that a chunk or a result left the node.
func (c *Core) signalSettled() {
	select {
	case c.settled <- struct{}{}:
	default:
	}
}

// awaitFinish ends the run (stop) after Finish, once the node holds no
// chunk and its results reached the sentinel, or the grace period for
// them passed (the rest stay in the journal for the next start).
func (c *Core) awaitFinish(ctx context.Context, stop context.CancelFunc) {
	select {
	case <-ctx.Done():
		return
	case <-c.finishCh:
	}
	for c.Stats().ActiveChunks > 0 {
		select {
		case <-ctx.Done():
			return
		case <-c.settled:
		}
	}
	deadline := c.clock.After(c.iv.Grace)
	for n := len(c.held.list()); n > 0; n = len(c.held.list()) {
		select {
		case <-ctx.Done():
			return
		case <-c.settled:
		case <-deadline:
			c.log.Warn(fmt.Sprintf("finished; %d results did not reach the sentinel within the grace period and are kept for the next start", n))
			stop()
			return
		}
	}
	c.log.Info("finished: every chunk is done")
	stop()
}

// RetryNow ends a wait in Unavailable: the next attempt to reach the
// sentinel starts at once. Elsewhere it does nothing.
func (c *Core) RetryNow() {
	select {
	case c.retry <- struct{}{}:
	default:
	}
}
