package gateway

// Authorization of postgres_changes bindings: checked at join (a node only
// its own nodes row and chunks, a user only its own jobs' rows and nodes,
// anon nothing) and again for every delivered row.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"wowlab/sentinel"
	"wowlab/sentinel/store"
)

// bindingSpec is one postgres_changes entry of a join's config.
type bindingSpec struct {
	Event  string `json:"event"`
	Schema string `json:"schema"`
	Table  string `json:"table"`
	Filter string `json:"filter"`
}

// refusal is a join refused with a reason for the client.
type refusal struct{ reason string }

func (r *refusal) Error() string { return r.reason }

func refusef(format string, args ...any) error { return &refusal{fmt.Sprintf(format, args...)} }

// bindings validates and authorizes the specs of a join for caller.
func (h *hub) bindings(ctx context.Context, ch *channel, specs []bindingSpec) ([]*binding, error) {
	if len(specs) > 0 && ch.caller.Role == sentinel.RoleAnon {
		return nil, refusef("postgres_changes need a node or user token as access_token")
	}
	if len(specs) > h.g.limits.MaxBindingsPerChannel {
		return nil, refusef("too many postgres_changes bindings: at most %d per channel", h.g.limits.MaxBindingsPerChannel)
	}
	out := make([]*binding, 0, len(specs))
	for i, sp := range specs {
		b := &binding{ch: ch, table: sp.Table}
		b.event = strings.ToUpper(sp.Event)
		switch b.event {
		case "*", "INSERT", "UPDATE", "DELETE":
		default:
			return nil, refusef("postgres_changes[%d]: event must be *, INSERT, UPDATE or DELETE, not %q", i, sp.Event)
		}
		if sp.Schema != "public" {
			return nil, refusef("postgres_changes[%d]: schema must be public, not %q", i, sp.Schema)
		}
		t, ok := h.g.schema[sp.Table]
		if !ok || !t.realtime {
			return nil, refusef("postgres_changes[%d]: table %q is not available; use nodes, jobs or jobs_chunks", i, sp.Table)
		}
		if sp.Filter != "" {
			col, val, err := parseChangeFilter(t, sp.Filter)
			if err != nil {
				return nil, refusef("postgres_changes[%d]: %v", i, err)
			}
			b.col, b.val = col, val
		}
		if ch.caller.Role == sentinel.RoleNode && ch.owner == "" && !(b.table == "nodes" && b.col == "id" && b.val == ch.caller.NodeID) {
			return nil, refusef("postgres_changes[%d] (%s %s): %s", i, sp.Table, sp.Filter, unclaimedNode)
		}
		if err := h.authorize(ctx, ch.caller, b); err != nil {
			return nil, refusef("postgres_changes[%d] (%s %s): %v", i, sp.Table, sp.Filter, err)
		}
		b.id = h.nextID.Add(1)
		b.echo = bindingEcho{ID: b.id, Event: sp.Event, Schema: sp.Schema, Table: sp.Table, Filter: sp.Filter}
		out = append(out, b)
	}
	return out, nil
}

// parseChangeFilter parses "<column>=eq.<value>" for t.
func parseChangeFilter(t *table, f string) (string, string, error) {
	name, rest, ok := strings.Cut(f, "=")
	if !ok {
		return "", "", fmt.Errorf("filter %q: expected <column>=eq.<value>", f)
	}
	col, ok := t.column(name)
	if !ok {
		return "", "", fmt.Errorf("filter %q: column %s.%s does not exist", f, t.name, name)
	}
	val, ok := strings.CutPrefix(rest, "eq.")
	if !ok {
		return "", "", fmt.Errorf("filter %q: only the eq operator is supported", f)
	}
	if !col.filterable() {
		return "", "", fmt.Errorf("filter %q: column %s cannot be filtered", f, name)
	}
	if col.typ == "uuid" {
		u, err := uuid.Parse(val)
		if err != nil {
			return "", "", fmt.Errorf("filter %q: %q is not a uuid", f, val)
		}
		val = u.String()
	}
	return name, val, nil
}

// authorize decides at join whether caller may hold binding b.
func (h *hub) authorize(ctx context.Context, c sentinel.Caller, b *binding) error {
	switch c.Role {
	case sentinel.RoleNode:
		switch {
		case b.table == "nodes" && b.col == "id" && b.val == c.NodeID:
			return nil
		case b.table == "jobs_chunks" && b.col == "node_id" && b.val == c.NodeID:
			return nil
		case b.table == "nodes":
			return errors.New("a node token may only bind to its own row (filter id=eq.<its node id>)")
		case b.table == "jobs_chunks":
			return errors.New("a node token may only bind to its own chunks (filter node_id=eq.<its node id>)")
		}
		return errors.New("a node token may not bind to this table")
	case sentinel.RoleUser:
		switch {
		case b.col == "user_id" && b.table != "jobs_chunks":
			if b.val != c.UserID {
				return errors.New("not your rows")
			}
		case b.col == "id" && b.table == "jobs", b.col == "job_id" && b.table == "jobs_chunks":
			j, err := h.g.store.JobByID(ctx, b.val)
			if errors.Is(err, store.ErrNotFound) || (err == nil && j.UserID != c.UserID) {
				return errors.New("not your job")
			}
			if err != nil {
				return fmt.Errorf("look up job: %w", err)
			}
		case b.col == "id" && b.table == "nodes", b.col == "node_id" && b.table == "jobs_chunks":
			n, err := h.g.store.NodeByID(ctx, b.val)
			if errors.Is(err, store.ErrNotFound) || (err == nil && n.UserID != c.UserID) {
				return errors.New("not your node")
			}
			if err != nil {
				return fmt.Errorf("look up node: %w", err)
			}
		case b.col == "id" && b.table == "jobs_chunks":
			ch, err := h.g.store.ChunkByID(ctx, b.val)
			if err == nil {
				var j store.Job
				j, err = h.g.store.JobByID(ctx, ch.JobID)
				if err == nil && j.UserID != c.UserID {
					err = store.ErrNotFound
				}
			}
			if errors.Is(err, store.ErrNotFound) {
				return errors.New("not your job's chunk")
			}
			if err != nil {
				return fmt.Errorf("look up chunk: %w", err)
			}
		}
		// Any other binding is delivered only for the user's own rows.
		return nil
	}
	return errors.New("postgres_changes need a node or user token")
}

// maysee reports whether caller may see a row of table whose columns are
// source (the new row, or the old keys of a deletion).
func (h *hub) maysee(ctx context.Context, c sentinel.Caller, table string, source map[string]any) bool {
	str := func(k string) string { s, _ := source[k].(string); return s }
	switch c.Role {
	case sentinel.RoleNode:
		switch table {
		case "nodes":
			return str("id") == c.NodeID
		case "jobs_chunks":
			return str("node_id") == c.NodeID
		}
	case sentinel.RoleUser:
		switch table {
		case "nodes", "jobs":
			return str("user_id") == c.UserID
		case "jobs_chunks":
			return h.jobOwner(ctx, str("job_id")) == c.UserID
		}
	}
	return false
}

// jobOwner returns the user owning a job ("" when unknown). A job's owner
// never changes, so it is cached.
func (h *hub) jobOwner(ctx context.Context, jobID string) string {
	if jobID == "" {
		return ""
	}
	if u, ok := h.owners[jobID]; ok {
		return u
	}
	j, err := h.g.store.JobByID(ctx, jobID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			h.g.log.Error("look up job owner", "job", jobID, "err", err)
		}
		return ""
	}
	if len(h.owners) >= maxOwnerCache {
		clear(h.owners)
	}
	h.owners[jobID] = j.UserID
	return j.UserID
}

// canonical is the text a filter value is compared with.
func canonical(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// decodeNumbers decodes JSON keeping numbers as json.Number.
func decodeNumbers(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

func sortedIDs(ids []int64) []int64 {
	slices.Sort(ids)
	return slices.Compact(ids)
}
