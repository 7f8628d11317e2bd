package gateway

// The hub holds this instance's Realtime state: sockets, joined channels
// by topic, the postgres_changes bindings indexed by table and filter, and
// presence. Its dispatcher turns change-feed notifications into frames.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"wowlab/sentinel"
	"wowlab/sentinel/store"
)

// fetchParallel is how many reads of changed rows the dispatcher runs at
// once; fetchBatch is how many waiting notifications it takes together.
const (
	fetchParallel = 8
	fetchBatch    = 512
)

// maxOwnerCache bounds the job -> owner cache.
const maxOwnerCache = 100_000

// binding is one postgres_changes subscription of a channel.
type binding struct {
	id    int64
	ch    *channel
	event string // "*", "INSERT", "UPDATE" or "DELETE"
	table string
	col   string // filter column; empty when unfiltered
	val   string // filter value, canonical
	echo  bindingEcho
}

// bindingEcho is a binding as the join reply lists it.
type bindingEcho struct {
	ID     int64  `json:"id"`
	Event  string `json:"event"`
	Schema string `json:"schema"`
	Table  string `json:"table"`
	Filter string `json:"filter,omitempty"`
}

// tableIndex finds the bindings a row change may match.
type tableIndex struct {
	count int
	all   map[*binding]struct{}                       // unfiltered
	eq    map[string]map[string]map[*binding]struct{} // column -> value -> bindings
}

// channel is one joined topic of one socket.
type channel struct {
	sock     *socket
	topic    string
	joinRef  json.RawMessage
	caller   sentinel.Caller
	bindings []*binding
	key      string          // presence key
	owner    string          // for a node's channel: the user who claimed the node ("" while unclaimed)
	meta     json.RawMessage // tracked presence meta; guarded by hub.mu
	expires  time.Time       // token expiry; owned by the socket's loop
	closed   atomic.Bool
}

// name is the topic without "realtime:".
func (c *channel) name() string { return c.topic[len(topicPrefix):] }

// push queues a server push on this channel.
func (c *channel) push(event string, payload json.RawMessage) {
	c.sock.enqueue(c.sock.codec.encode(message{JoinRef: c.joinRef, Ref: jsonNull, Topic: c.topic, Event: event, Payload: payload}))
}

type hub struct {
	g       *Gateway
	nextID  atomic.Int64
	nextRef atomic.Int64

	mu         sync.RWMutex
	sockets    map[*socket]struct{}
	identities map[string]int // identity -> sockets that joined with it
	tables     map[string]*tableIndex
	topics     map[string]map[*channel]struct{}
	presence   presenceIndex // the channels of nodes:presence, indexed

	owners map[string]string // job id -> user id; only the dispatcher uses it
}

func newHub(g *Gateway) *hub {
	return &hub{
		g: g, sockets: make(map[*socket]struct{}), identities: make(map[string]int),
		tables: make(map[string]*tableIndex), topics: make(map[string]map[*channel]struct{}),
		presence: newPresenceIndex(), owners: make(map[string]string),
	}
}

func (h *hub) addSocket(s *socket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sockets[s] = struct{}{}
}

// removeSocket forgets a closed socket and its identities.
func (h *hub) removeSocket(s *socket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.sockets, s)
	for id := range s.identities {
		if h.identities[id]--; h.identities[id] <= 0 {
			delete(h.identities, id)
		}
	}
}

// socketCount returns how many sockets are open on this instance.
func (h *hub) socketCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.sockets)
}

func (h *hub) closeAll() {
	h.mu.RLock()
	socks := make([]*socket, 0, len(h.sockets))
	for s := range h.sockets {
		socks = append(socks, s)
	}
	h.mu.RUnlock()
	for _, s := range socks {
		s.fail(statusGoingAway, "server shutting down")
	}
}

// errTooManySockets refuses a join over MaxSocketsPerToken.
var errTooManySockets = errors.New("too many sockets for this token")

// addChannel registers a joined channel and, under the same lock so that
// no change or presence frame can overtake them, queues the join reply,
// the system message and the presence state.
func (h *hub) addChannel(ch *channel, joinRef, ref json.RawMessage) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := ch.sock
	if id := ch.caller.Identity(); ch.caller.Role != sentinel.RoleAnon && !s.identities[id] {
		if h.identities[id] >= h.g.limits.MaxSocketsPerToken {
			return errTooManySockets
		}
		h.identities[id]++
		s.identities[id] = true
		ids := make([]string, 0, len(s.identities))
		for id := range s.identities {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		s.who.Store(strings.Join(ids, ","))
	}
	echo := make([]bindingEcho, len(ch.bindings))
	for i, b := range ch.bindings {
		echo[i] = b.echo
		idx := h.tables[b.table]
		if idx == nil {
			idx = &tableIndex{all: make(map[*binding]struct{}), eq: make(map[string]map[string]map[*binding]struct{})}
			h.tables[b.table] = idx
		}
		idx.count++
		if b.col == "" {
			idx.all[b] = struct{}{}
			continue
		}
		byVal := idx.eq[b.col]
		if byVal == nil {
			byVal = make(map[string]map[*binding]struct{})
			idx.eq[b.col] = byVal
		}
		set := byVal[b.val]
		if set == nil {
			set = make(map[*binding]struct{})
			byVal[b.val] = set
		}
		set[b] = struct{}{}
	}
	members := h.topics[ch.topic]
	if members == nil {
		members = make(map[*channel]struct{})
		h.topics[ch.topic] = members
	}
	members[ch] = struct{}{}
	if ch.topic == presenceTopic {
		h.presence.add(ch)
	}

	s.enqueue(s.codec.encode(message{JoinRef: joinRef, Ref: ref, Topic: ch.topic, Event: evReply,
		Payload: replyPayload("ok", map[string]any{"postgres_changes": echo})}))
	if len(ch.bindings) > 0 {
		sys, _ := json.Marshal(map[string]string{"extension": "postgres_changes", "status": "ok",
			"message": "Subscribed to PostgreSQL", "channel": ch.name()})
		ch.push(evSystem, sys)
	}
	// Every join gets its presence_state, as Supabase sends it; empty for
	// a channel that hears no presence.
	ch.push(evState, h.presenceStateLocked(ch.topic, ch))
	return nil
}

// removeChannel unregisters a channel and drops its presence; it reports
// whether the channel had tracked presence.
func (h *hub) removeChannel(ch *channel) (hadPresence bool) {
	if ch.closed.Swap(true) {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, b := range ch.bindings {
		idx := h.tables[b.table]
		if idx == nil {
			continue
		}
		idx.count--
		if b.col == "" {
			delete(idx.all, b)
		} else if set := idx.eq[b.col][b.val]; set != nil {
			delete(set, b)
			if len(set) == 0 {
				delete(idx.eq[b.col], b.val)
			}
		}
	}
	if members := h.topics[ch.topic]; members != nil {
		delete(members, ch)
		if len(members) == 0 {
			delete(h.topics, ch.topic)
		}
	}
	if ch.topic == presenceTopic {
		h.presence.remove(ch)
	}
	if ch.meta != nil {
		h.diffLocked(ch, nil, ch.meta)
		ch.meta = nil
		return true
	}
	return false
}

// track sets a channel's presence meta and tells the topic; it reports
// whether the channel was not tracked before.
func (h *hub) track(ch *channel, meta json.RawMessage) (first bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ch.closed.Load() {
		return false
	}
	old := ch.meta
	ch.meta = meta
	h.diffLocked(ch, meta, old)
	return old == nil
}

// untrack drops a channel's presence; it reports whether it was tracked.
func (h *hub) untrack(ch *channel) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ch.meta == nil {
		return false
	}
	h.diffLocked(ch, nil, ch.meta)
	ch.meta = nil
	return true
}

func (h *hub) newPresenceRef() string {
	return "F" + strconv.FormatInt(time.Now().UnixNano(), 36) + strconv.FormatInt(h.nextRef.Add(1), 36)
}

type metas struct {
	Metas []json.RawMessage `json:"metas"`
}

// hearsPresence reports whether the channel is told of presence at all: a
// node hears presence only on nodes:presence (and there only its own, see
// seesPresenceOf), so no other client can make frames flow to nodes by
// tracking on their topics.
func (c *channel) hearsPresence() bool {
	return c.caller.Role != sentinel.RoleNode || (c.topic == presenceTopic && c.owner != "")
}

// seesPresenceOf reports whether the channel is told of src's presence.
// On nodes:presence a node sees only its own and a user only that of its
// own nodes (PROTOCOL section 6: a node sees only what its work needs);
// on other topics everyone who joined them sees each other.
func (c *channel) seesPresenceOf(src *channel) bool {
	if !c.hearsPresence() {
		return false
	}
	if src.topic != presenceTopic {
		return true
	}
	switch c.caller.Role {
	case sentinel.RoleNode:
		return src.key == c.caller.NodeID
	case sentinel.RoleUser:
		return src.owner != "" && src.owner == c.caller.UserID
	}
	return false
}

// diffLocked sends presence_diff of src to every channel of its topic
// that may see it.
func (h *hub) diffLocked(src *channel, join, leave json.RawMessage) {
	diff := struct {
		Joins  map[string]metas `json:"joins"`
		Leaves map[string]metas `json:"leaves"`
	}{map[string]metas{}, map[string]metas{}}
	if join != nil {
		diff.Joins[src.key] = metas{[]json.RawMessage{join}}
	}
	if leave != nil {
		diff.Leaves[src.key] = metas{[]json.RawMessage{leave}}
	}
	payload, _ := json.Marshal(diff)
	if src.topic == presenceTopic {
		h.presence.audience(src, func(ch *channel) { ch.push(evDiff, payload) })
		return
	}
	for ch := range h.topics[src.topic] {
		if ch.seesPresenceOf(src) {
			ch.push(evDiff, payload)
		}
	}
}

// presenceStateLocked is the presence of topic that viewer may see, or all
// of it when viewer is nil.
func (h *hub) presenceStateLocked(topic string, viewer *channel) json.RawMessage {
	state := map[string]metas{}
	add := func(ch *channel) {
		if ch.meta != nil {
			m := state[ch.key]
			m.Metas = append(m.Metas, ch.meta)
			state[ch.key] = m
		}
	}
	switch {
	case topic == presenceTopic && viewer != nil:
		h.presence.visibleTo(viewer, add)
	default:
		for ch := range h.topics[topic] {
			if viewer == nil || viewer.seesPresenceOf(ch) {
				add(ch)
			}
		}
	}
	b, _ := json.Marshal(state)
	return b
}

// presenceIndex finds, on nodes:presence, who sees whose presence without
// looking at every channel of the topic: a node sees only presence under
// its own id and a user only that of its own nodes (seesPresenceOf), so a
// track is told to a few channels and a join's state is built from a few,
// and connecting N nodes costs O(N) work and frames, not O(N^2).
type presenceIndex struct {
	// Viewers: node channels by the caller's node id, user channels by
	// the caller's user id.
	nodeViewers, userViewers map[string]map[*channel]struct{}
	// Sources: every channel by its presence key, node channels by the
	// node's owner.
	byKey, byOwner map[string]map[*channel]struct{}
}

func newPresenceIndex() presenceIndex {
	return presenceIndex{
		nodeViewers: map[string]map[*channel]struct{}{}, userViewers: map[string]map[*channel]struct{}{},
		byKey: map[string]map[*channel]struct{}{}, byOwner: map[string]map[*channel]struct{}{},
	}
}

// sets returns the sets of the index ch belongs to.
func (x presenceIndex) sets(ch *channel, each func(m map[string]map[*channel]struct{}, key string)) {
	switch ch.caller.Role {
	case sentinel.RoleNode:
		each(x.nodeViewers, ch.caller.NodeID)
	case sentinel.RoleUser:
		each(x.userViewers, ch.caller.UserID)
	}
	each(x.byKey, ch.key)
	if ch.owner != "" {
		each(x.byOwner, ch.owner)
	}
}

func (x presenceIndex) add(ch *channel) {
	x.sets(ch, func(m map[string]map[*channel]struct{}, key string) {
		set := m[key]
		if set == nil {
			set = map[*channel]struct{}{}
			m[key] = set
		}
		set[ch] = struct{}{}
	})
}

func (x presenceIndex) remove(ch *channel) {
	x.sets(ch, func(m map[string]map[*channel]struct{}, key string) {
		if set := m[key]; set != nil {
			delete(set, ch)
			if len(set) == 0 {
				delete(m, key)
			}
		}
	})
}

// audience calls fn for every channel that sees src's presence.
func (x presenceIndex) audience(src *channel, fn func(*channel)) {
	for ch := range x.nodeViewers[src.key] {
		if ch.seesPresenceOf(src) {
			fn(ch)
		}
	}
	if src.owner == "" {
		return
	}
	for ch := range x.userViewers[src.owner] {
		if ch.seesPresenceOf(src) {
			fn(ch)
		}
	}
}

// visibleTo calls fn for every channel whose presence viewer sees.
func (x presenceIndex) visibleTo(viewer *channel, fn func(*channel)) {
	var set map[*channel]struct{}
	switch viewer.caller.Role {
	case sentinel.RoleNode:
		set = x.byKey[viewer.caller.NodeID]
	case sentinel.RoleUser:
		set = x.byOwner[viewer.caller.UserID]
	}
	for ch := range set {
		if viewer.seesPresenceOf(ch) {
			fn(ch)
		}
	}
}

// watching reports whether any binding of this instance is on table.
func (h *hub) watching(table string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	idx := h.tables[table]
	return idx != nil && idx.count > 0
}

// work is one notification on its way through the dispatcher, in order.
type work struct {
	reset  bool
	change store.Change
	row    json.RawMessage
	err    error
	done   chan struct{}
	// sent is shared by the changes of one row in one batch: they read
	// the same (current) row, so a channel sent it once is not sent the
	// same record again (an insert read after the update that assigned
	// it would otherwise reach the node twice).
	sent map[*channel]struct{}
}

// dispatch reads the feed until ctx ends and delivers changes in the order
// they were committed. The notifications that wait in the feed are taken
// together, up to fetchBatch: the changed rows of each table among them
// are read in one query, up to fetchParallel queries at a time.
func (h *hub) dispatch(ctx context.Context, sub *store.Subscription) error {
	queue := make(chan *work, 1024)
	sem := make(chan struct{}, fetchParallel)
	var wg sync.WaitGroup
	wg.Go(func() {
		for w := range queue {
			<-w.done
			if w.reset {
				h.reset()
				continue
			}
			h.deliver(ctx, w)
		}
	})
	defer func() {
		close(queue)
		wg.Wait()
	}()
	closed := make(chan struct{})
	close(closed)
	batch := make([]store.Notification, 0, fetchBatch)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return nil
		case n, ok := <-sub.C:
			if !ok {
				return nil
			}
			batch = append(batch, n)
		}
		ended := false
	more:
		for len(batch) < fetchBatch {
			select {
			case n, ok := <-sub.C:
				if !ok {
					ended = true
					break more
				}
				batch = append(batch, n)
			default:
				break more
			}
		}
		var works []*work
		reads := map[string][]*work{} // changes whose new row is read, by table
		sent := map[[2]string]map[*channel]struct{}{}
		for _, n := range batch {
			switch n.Kind {
			case store.KindReset:
				h.g.once.Do(func() { close(h.g.ready) })
				works = append(works, &work{reset: true, done: closed})
			case store.KindChange:
				t, ok := h.g.schema[n.Change.Table]
				if !ok || !t.realtime || !h.watching(t.name) {
					continue
				}
				w := &work{change: n.Change, done: closed}
				if n.Change.Op != "DELETE" {
					w.done = make(chan struct{})
					reads[t.name] = append(reads[t.name], w)
					row := [2]string{t.name, n.Change.ID}
					if sent[row] == nil {
						sent[row] = map[*channel]struct{}{}
					}
					w.sent = sent[row]
				}
				works = append(works, w)
			}
		}
		for table, ws := range reads {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			go func() {
				defer func() { <-sem }()
				h.readRows(ctx, table, ws)
			}()
		}
		for _, w := range works {
			select {
			case queue <- w:
			case <-ctx.Done():
				return nil
			}
		}
		if ended {
			return nil
		}
	}
}

// readRows reads the new rows of changes to one table and releases them to
// delivery. A row that is gone by now is ErrNotFound.
func (h *hub) readRows(ctx context.Context, table string, ws []*work) {
	ids := make([]string, len(ws))
	for i, w := range ws {
		ids[i] = w.change.ID
	}
	rows, err := h.g.store.ReadRows(ctx, table, ids)
	for _, w := range ws {
		switch row, ok := rows[w.change.ID]; {
		case err != nil:
			w.err = err
		case !ok:
			w.err = fmt.Errorf("%s %s: %w", table, w.change.ID, store.ErrNotFound)
		default:
			w.row = row
		}
		close(w.done)
	}
}

// reset tells every channel with postgres_changes bindings that changes may
// have been lost (phx_error), so clients rejoin and resync.
func (h *hub) reset() {
	h.mu.RLock()
	socks := make([]*socket, 0, len(h.sockets))
	for s := range h.sockets {
		socks = append(socks, s)
	}
	h.mu.RUnlock()
	for _, s := range socks {
		select {
		case s.resetC <- struct{}{}:
		default:
		}
	}
}

// deliver sends one change to the channels whose bindings match it and
// whose caller may see the row.
func (h *hub) deliver(ctx context.Context, w *work) {
	c := w.change
	if w.err != nil {
		if !errors.Is(w.err, store.ErrNotFound) && ctx.Err() == nil {
			h.g.log.Error("read changed row", "table", c.Table, "id", c.ID, "err", w.err)
		}
		return
	}
	record := map[string]any{}
	if w.row != nil {
		if err := decodeNumbers(w.row, &record); err != nil {
			h.g.log.Error("decode changed row", "table", c.Table, "id", c.ID, "err", err)
			return
		}
	}
	source := record
	if c.Op == "DELETE" {
		source = c.Old
	}
	if claimed := c.Table == "nodes" && c.Op == "UPDATE" && c.Old != nil && c.Old["user_id"] == nil && record["user_id"] != nil; claimed {
		// Once the claim has been told, the node's sockets reconnect: it
		// was refused its chunks and presence while unclaimed, and now
		// rejoins with them at once instead of after its join backoff.
		defer h.reconnectNode(c.ID)
	}
	h.mu.RLock()
	var cands []*binding
	if idx := h.tables[c.Table]; idx != nil {
		for b := range idx.all {
			cands = append(cands, b)
		}
		for col, byVal := range idx.eq {
			v, ok := source[col]
			if !ok {
				continue
			}
			for b := range byVal[canonical(v)] {
				cands = append(cands, b)
			}
		}
	}
	h.mu.RUnlock()
	if len(cands) == 0 {
		return
	}
	var order []*channel
	ids := make(map[*channel][]int64)
	for _, b := range cands {
		if b.event != "*" && b.event != c.Op {
			continue
		}
		if !h.maysee(ctx, b.ch.caller, c.Table, source) {
			continue
		}
		if _, ok := ids[b.ch]; !ok {
			order = append(order, b.ch)
		}
		ids[b.ch] = append(ids[b.ch], b.id)
	}
	if len(order) == 0 {
		return
	}
	data, err := h.changeData(c, w.row)
	if err != nil {
		h.g.log.Error("encode change", "err", err)
		return
	}
	for _, ch := range order {
		if ch.closed.Load() {
			continue
		}
		if w.sent != nil {
			if _, dup := w.sent[ch]; dup {
				continue
			}
			w.sent[ch] = struct{}{}
		}
		list := ids[ch]
		buf := make([]byte, 0, len(data)+32)
		buf = append(buf, `{"ids":[`...)
		for i, id := range sortedIDs(list) {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendInt(buf, id, 10)
		}
		buf = append(buf, `],"data":`...)
		buf = append(buf, data...)
		buf = append(buf, '}')
		ch.push(evChanges, buf)
	}
}

// reconnectNode closes, once their queued frames are written, the sockets
// of this instance on which the node joined channels while unclaimed.
func (h *hub) reconnectNode(nodeID string) {
	h.mu.RLock()
	var socks []*socket
	for s := range h.sockets {
		if s.unclaimed[nodeID] {
			socks = append(socks, s)
		}
	}
	h.mu.RUnlock()
	for _, s := range socks {
		s.closeWhenSent(statusRestart, "node claimed: reconnect to join its chunks and presence")
	}
}

// noteUnclaimed records that s joined a channel for nodeID while the node
// was unclaimed: only such a socket was refused anything for it, so only
// such a socket reconnects when the claim is told (a socket that joined
// after the claim, before its change arrived, keeps its channels).
func (h *hub) noteUnclaimed(s *socket, nodeID string) {
	h.mu.Lock()
	s.unclaimed[nodeID] = true
	h.mu.Unlock()
}

// changeData is the "data" of a postgres_changes payload.
func (h *hub) changeData(c store.Change, row json.RawMessage) ([]byte, error) {
	t := h.g.schema[c.Table]
	type col struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	cols := make([]col, len(t.columns))
	for i, tc := range t.columns {
		cols[i] = col{tc.name, tc.typ}
	}
	record := json.RawMessage(`{}`)
	if row != nil {
		record = row
	}
	old := json.RawMessage(`{}`)
	if c.Old != nil {
		b, err := json.Marshal(c.Old)
		if err != nil {
			return nil, err
		}
		old = b
	}
	return json.Marshal(struct {
		Schema          string          `json:"schema"`
		Table           string          `json:"table"`
		CommitTimestamp string          `json:"commit_timestamp"`
		Type            string          `json:"type"`
		Columns         []col           `json:"columns"`
		Record          json.RawMessage `json:"record"`
		OldRecord       json.RawMessage `json:"old_record"`
		Errors          []string        `json:"errors"`
	}{"public", c.Table, c.At.UTC().Format("2006-01-02T15:04:05.000Z07:00"), c.Op, cols, record, old, nil})
}
