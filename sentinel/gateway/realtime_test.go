package gateway

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wowlab/examples"
	"wowlab/sentinel"
	"wowlab/sentinel/store"
)

// A chunk assignment made by the scheduler reaches the socket of the node
// it went to, with the binding ids of the join reply, and no other socket.
func TestChunkAssignmentReachesOnlyItsNode(t *testing.T) {
	vsns(t, func(t *testing.T, vsn string) {
		e := newEnv(t, Limits{})
		u1, tok1 := e.user("alice")
		u2, _ := e.user("bob")
		a, b := e.newNode(u1), e.newNode(u2)

		ca, cb := e.connect(vsn), e.connect(vsn)
		ra := ca.join("realtime:chunks:"+a.id, a.token, []map[string]string{
			changes("*", "jobs_chunks", "node_id=eq."+a.id),
			changes("UPDATE", "jobs_chunks", "node_id=eq."+a.id),
			changes("DELETE", "jobs_chunks", "node_id=eq."+a.id),
		}, "")
		if ra.status != "ok" || len(ra.ids) != 3 || !(ra.ids[0] < ra.ids[1] && ra.ids[1] < ra.ids[2]) {
			t.Fatalf("join: %+v", ra)
		}
		if string(ra.state) != "{}" {
			t.Fatalf("presence_state %s", ra.state)
		}
		rb := cb.join("realtime:chunks:"+b.id, b.token, []map[string]string{changes("*", "jobs_chunks", "node_id=eq."+b.id)}, "")
		rbNode := cb.join("realtime:node:"+b.id, b.token, []map[string]string{changes("UPDATE", "nodes", "id=eq."+b.id)}, "")
		if rb.status != "ok" || rbNode.status != "ok" {
			t.Fatalf("join b: %+v %+v", rb, rbNode)
		}

		cu := e.connect(vsn)
		if r := cu.join("realtime:mine", tok1, []map[string]string{changes("*", "jobs_chunks", "")}, ""); r.status != "ok" {
			t.Fatalf("owner join: %+v", r)
		}
		status, body := e.rest("POST", "/rest/v1/rpc/create_job", e.anon, tok1, map[string]any{"p_config": json.RawMessage(examples.Quick(1)), "p_iterations": 700})
		if status != 200 {
			t.Fatalf("create_job: %d %s", status, body)
		}
		if n, err := e.a.svc.Schedule(context.Background()); err != nil || n != 1 {
			t.Fatalf("schedule: %d %v", n, err)
		}
		// A chunk carved for a node is inserted running: the * binding
		// hears it.
		ch := ca.expectChange("realtime:chunks:" + a.id)
		if ch.Data.Type != "INSERT" || ch.Data.Table != "jobs_chunks" || ch.Data.Schema != "public" || ch.Data.Errors != nil {
			t.Fatalf("change: %+v", ch)
		}
		if len(ch.IDs) != 1 || ch.IDs[0] != ra.ids[0] {
			t.Fatalf("ids %v, want the * binding %v", ch.IDs, ra.ids[:1])
		}
		rec := ch.Data.Record
		if rec["status"] != "running" || rec["node_id"] != a.id || rec["iterations"] != float64(700) || rec["seed_offset"] != float64(0) {
			t.Fatalf("record %v", rec)
		}
		// Handed back and given again, it is an update: the * and UPDATE
		// bindings hear it, with the old keys.
		e.exec(`UPDATE jobs_chunks SET status = 'pending', node_id = NULL, claimed_at = NULL WHERE id = $1`, rec["id"])
		// a is not told of the hand-back (its new row is nobody's); the
		// owner is, so once the owner has it the reassignment is a change
		// of its own.
		for {
			hb := cu.expectChange("realtime:mine")
			if hb.Data.Type == "UPDATE" && hb.Data.Record["node_id"] == nil {
				break
			}
		}
		if n, err := e.a.svc.Schedule(context.Background()); err != nil || n != 1 {
			t.Fatalf("schedule again: %d %v", n, err)
		}
		ch = ca.expectChange("realtime:chunks:" + a.id)
		if ch.Data.Type != "UPDATE" || len(ch.IDs) != 2 || ch.IDs[0] != ra.ids[0] || ch.IDs[1] != ra.ids[1] {
			t.Fatalf("reassignment %+v, want an UPDATE to the * and UPDATE bindings %v", ch, ra.ids[:2])
		}
		if ch.Data.OldRecord["status"] != "pending" || ch.Data.OldRecord["node_id"] != nil || ch.Data.OldRecord["id"] != rec["id"] {
			t.Fatalf("old_record %v", ch.Data.OldRecord)
		}
		if _, err := time.Parse(time.RFC3339, ch.Data.CommitTimestamp); err != nil {
			t.Fatalf("commit_timestamp %q: %v", ch.Data.CommitTimestamp, err)
		}
		types := map[string]string{}
		for _, c := range ch.Data.Columns {
			types[c["name"]] = c["type"]
		}
		if types["id"] != "uuid" || types["iterations"] != "int4" || types["seed_offset"] != "int8" || types["result"] != "jsonb" || types["claimed_at"] != "timestamptz" || types["previous_node_ids"] != "_uuid" {
			t.Fatalf("columns %v", ch.Data.Columns)
		}
		// b's next frames up to its own node's rename, committed after the
		// assignment, are all about its nodes row (the setup's claim may
		// still be on its way): the assignment did not reach b.
		e.exec(`UPDATE nodes SET name = 'renamed' WHERE id = $1`, b.id)
		for {
			nb := cb.expectChange("realtime:node:" + b.id)
			if len(nb.IDs) != 1 || nb.IDs[0] != rbNode.ids[0] || nb.Data.Table != "nodes" {
				t.Fatalf("b's node change: %+v", nb)
			}
			if nb.Data.Record["name"] == "renamed" {
				break
			}
		}
		// A deletion is delivered with the old keys.
		e.exec(`DELETE FROM jobs_chunks WHERE id = $1`, rec["id"])
		del := ca.expectChange("realtime:chunks:" + a.id)
		if del.Data.Type != "DELETE" || del.Data.OldRecord["id"] != rec["id"] || len(del.Data.Record) != 0 || len(del.IDs) != 2 || del.IDs[1] != ra.ids[2] {
			t.Fatalf("delete: %+v", del)
		}
	})
}

// nodeInserts are the changes of nodes the tests register before a socket
// joins.
func nodeInserts(ch change) bool { return ch.Data.Table == "nodes" && ch.Data.Type == "INSERT" }

// A node waiting to be claimed learns of its claim from its nodes row.
func TestClaimReachesNode(t *testing.T) {
	vsns(t, func(t *testing.T, vsn string) {
		e := newEnv(t, Limits{})
		u, tok := e.user("alice")
		n := e.newNode("")
		c := e.connect(vsn)
		c.ignoreChanges(nodeInserts)
		if r := c.join("realtime:node:"+n.id, n.token, []map[string]string{changes("*", "nodes", "id=eq."+n.id)}, ""); r.status != "ok" {
			t.Fatalf("join: %+v", r)
		}
		// The portal's flow: check the code, then claim the node it names.
		if status, body := e.rest("POST", "/rest/v1/rpc/verify_claim_code", e.anon, tok, map[string]any{"p_code": n.code}); status != 200 {
			t.Fatalf("verify: %d %s", status, body)
		}
		status, body := e.rest("POST", "/rest/v1/rpc/claim_node", e.anon, tok, map[string]any{"p_node_id": n.id, "p_name": "rig"})
		if status != 200 {
			t.Fatalf("claim: %d %s", status, body)
		}
		ch := c.expectChange("realtime:node:" + n.id)
		if ch.Data.Type != "UPDATE" || ch.Data.Record["user_id"] != u || ch.Data.Record["name"] != "rig" || ch.Data.OldRecord["user_id"] != nil {
			t.Fatalf("claim change: %+v", ch)
		}
		// Then the socket asks the node to reconnect: refused its chunks
		// and presence while unclaimed, it now joins them at once.
		if ce := c.closeErr(); ce.Code != websocket.StatusServiceRestart || !strings.Contains(ce.Reason, "node claimed") {
			t.Fatalf("after the claim: %v", ce)
		}
		c2 := e.connect(vsn)
		if r := c2.join("realtime:chunks:"+n.id, n.token, []map[string]string{changes("*", "jobs_chunks", "node_id=eq."+n.id)}, ""); r.status != "ok" {
			t.Fatalf("chunks join after the claim: %+v", r)
		}
	})
}

// A claim's change that arrives after a socket joined for the node already
// claimed (the claim was written first, its change is still on its way)
// leaves that socket be: it was refused nothing.
func TestLateClaimChangeKeepsSocketJoinedClaimed(t *testing.T) {
	vsns(t, func(t *testing.T, vsn string) {
		e := newEnv(t, Limits{})
		u, _ := e.user("alice")
		n := e.newNode(u)
		c := e.connect(vsn)
		c.ignoreChanges(func(ch change) bool { return ch.Data.Table == "nodes" })
		topic := "realtime:chunks:" + n.id
		if r := c.join(topic, n.token, []map[string]string{changes("*", "jobs_chunks", "node_id=eq."+n.id)}, ""); r.status != "ok" {
			t.Fatalf("join: %+v", r)
		}
		// What delivering the claim's change does, whenever it comes.
		e.a.gw.hub.reconnectNode(n.id)
		e.exec(`INSERT INTO jobs_configs (hash, config) VALUES ('h', '{}')`)
		e.exec(`INSERT INTO jobs (user_id, config_hash, total_iterations) VALUES ($1, 'h', 1)`, u)
		e.exec(`INSERT INTO jobs_chunks (job_id, node_id, config_hash, iterations, seed_offset, status) SELECT id, $1, 'h', 1, 0, 'running' FROM jobs`, n.id)
		if ch := c.expectChange(topic); ch.Data.Type != "INSERT" || ch.Data.Record["node_id"] != n.id {
			t.Fatalf("change after the late claim: %+v", ch)
		}
	})
}

// Presence: state after join, diffs on track, untrack and a closed socket,
// and the sentinel counting a tracking node as online.
func TestPresence(t *testing.T) {
	vsns(t, func(t *testing.T, vsn string) {
		e := newEnv(t, Limits{})
		u, utok := e.user("alice")
		a, b := e.newNode(u), e.newNode(u)
		e.exec(`UPDATE nodes SET status = 'offline', last_seen_at = now() - interval '1 hour' WHERE id = $1`, a.id)

		watcher := e.connect(vsn)
		if r := watcher.join(presenceTopic, utok, nil, ""); r.status != "ok" || string(r.state) != "{}" {
			t.Fatalf("watcher join: %+v", r)
		}
		ca := e.connect(vsn)
		if r := ca.join(presenceTopic, a.token, nil, a.id); r.status != "ok" {
			t.Fatalf("join: %+v", r)
		}
		ref := ca.send(`1`, presenceTopic, evPresence, map[string]any{"type": "presence", "event": "track", "payload": map[string]any{"node_id": a.id}})
		// The diff and the reply may come in either order on the tracker.
		var sawReply, sawDiff bool
		for !sawReply || !sawDiff {
			f := ca.next()
			switch f.Event {
			case evReply:
				if string(f.Ref) != `"`+ref+`"` || !strings.Contains(string(f.Payload), `"ok"`) {
					t.Fatalf("track reply %v", f)
				}
				sawReply = true
			case evDiff:
				sawDiff = true
			default:
				t.Fatalf("unexpected %v", f)
			}
		}
		d := watcher.expect(presenceTopic, evDiff)
		var diff struct {
			Joins  map[string]metas `json:"joins"`
			Leaves map[string]metas `json:"leaves"`
		}
		if err := json.Unmarshal(d.Payload, &diff); err != nil || len(diff.Joins[a.id].Metas) != 1 || len(diff.Leaves) != 0 {
			t.Fatalf("diff %s", d.Payload)
		}
		var meta map[string]any
		_ = json.Unmarshal(diff.Joins[a.id].Metas[0], &meta)
		if meta["node_id"] != a.id || meta["phx_ref"] == "" {
			t.Fatalf("meta %v", meta)
		}
		// The sentinel reports the tracking node online.
		st, body := e.rest("GET", "/rest/v1/nodes?id=eq."+a.id+"&select=status", e.anon, utok, nil)
		if st != 200 || string(body) != `[{"status":"online"}]` {
			t.Fatalf("node after track: %d %s", st, body)
		}
		// A later joiner gets the state it may see: a user its own nodes',
		// a node only its own (none yet), never another node's.
		watcher2 := e.connect(vsn)
		r := watcher2.join(presenceTopic, utok, nil, "")
		var state map[string]metas
		if err := json.Unmarshal(r.state, &state); err != nil || len(state) != 1 || len(state[a.id].Metas) != 1 {
			t.Fatalf("user's state %s", r.state)
		}
		cb := e.connect(vsn)
		if r := cb.join(presenceTopic, b.token, nil, b.id); string(r.state) != `{}` {
			t.Fatalf("node b's state %s", r.state)
		}
		// Untrack, track again, then the socket goes: leaves each time.
		ref = ca.send(`1`, presenceTopic, evPresence, map[string]any{"type": "presence", "event": "untrack"})
		if d := watcher.expect(presenceTopic, evDiff); !strings.Contains(string(d.Payload), `"leaves":{"`+a.id+`"`) {
			t.Fatalf("untrack diff %s", d.Payload)
		}
		ca.send(`1`, presenceTopic, evPresence, map[string]any{"type": "presence", "event": "track", "payload": map[string]any{"node_id": a.id}})
		if d := watcher.expect(presenceTopic, evDiff); !strings.Contains(string(d.Payload), `"joins":{"`+a.id+`"`) {
			t.Fatalf("track diff %s", d.Payload)
		}
		_ = ca.conn.Close(websocket.StatusNormalClosure, "bye")
		if d := watcher.expect(presenceTopic, evDiff); !strings.Contains(string(d.Payload), `"leaves":{"`+a.id+`"`) || !strings.Contains(string(d.Payload), `"joins":{}`) {
			t.Fatalf("close diff %s", d.Payload)
		}
		// Node b heard nothing of a; it hears its own track.
		cb.send(`1`, presenceTopic, evPresence, map[string]any{"type": "presence", "event": "track", "payload": map[string]any{"node_id": b.id}})
		for {
			f := cb.next()
			if f.Event == evReply {
				continue
			}
			if f.Event != evDiff || !strings.Contains(string(f.Payload), `"joins":{"`+b.id+`"`) {
				t.Fatalf("node b heard %v", f)
			}
			break
		}
	})
}

// Heartbeats are answered; a silent socket is dropped after the timeout
// while a chatty one stays.
func TestHeartbeatTimeout(t *testing.T) {
	vsns(t, func(t *testing.T, vsn string) {
		e := newEnv(t, Limits{HeartbeatTimeout: 400 * time.Millisecond})
		silent, chatty := e.connect(vsn), e.connect(vsn)
		start := time.Now()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		var closedAt time.Duration
		for closedAt == 0 || time.Since(start) < 1200*time.Millisecond {
			ref := chatty.send("", "phoenix", evHeartbeat, map[string]any{})
			if st, resp := chatty.reply("phoenix", ref); st != "ok" || string(resp) != "{}" {
				t.Fatalf("heartbeat reply %s %s", st, resp)
			}
			select {
			case _, ok := <-silent.frames:
				if ok {
					t.Fatal("silent socket got a frame")
				}
				closedAt = time.Since(start)
				ce := silent.closeErr()
				if ce.Code != websocket.StatusGoingAway || !strings.Contains(ce.Reason, "heartbeat timeout") {
					t.Fatalf("close %v", ce)
				}
			default:
			}
			<-tick.C
			if time.Since(start) > 10*time.Second {
				t.Fatal("silent socket never dropped")
			}
		}
		if closedAt < 300*time.Millisecond {
			t.Fatalf("silent socket dropped after %v, before the timeout", closedAt)
		}
	})
}

// Token refresh keeps a channel; an expired token closes it; a bad refresh
// closes it with a reason.
func TestTokenRefreshAndExpiry(t *testing.T) {
	vsns(t, func(t *testing.T, vsn string) {
		e := newEnv(t, Limits{})
		u, _ := e.user("alice")
		n, other := e.newNode(u), e.newNode(u)
		c := e.connect(vsn)
		// Registering, claiming and the first heartbeat of the nodes are
		// written before the joins; their changes may still arrive after.
		c.ignoreChanges(func(ch change) bool { return ch.Data.Table == "nodes" })
		short := nodeToken(t, testSecret, n.id, 1500*time.Millisecond)
		topicA, topicB, topicC := "realtime:chunks:"+n.id, "realtime:node:"+n.id, "realtime:other"
		if r := c.join(topicA, short, []map[string]string{changes("*", "jobs_chunks", "node_id=eq."+n.id)}, ""); r.status != "ok" {
			t.Fatalf("join A: %+v", r)
		}
		if r := c.join(topicB, short, []map[string]string{changes("*", "nodes", "id=eq."+n.id)}, ""); r.status != "ok" {
			t.Fatalf("join B: %+v", r)
		}
		if r := c.join(topicC, n.token, nil, ""); r.status != "ok" {
			t.Fatalf("join C: %+v", r)
		}
		// Refresh A with a fresh token of the same node.
		ref := c.send(`"1"`, topicA, evAccessToken, map[string]string{"access_token": nodeToken(t, testSecret, n.id, time.Hour)})
		if st, resp := c.reply(topicA, ref); st != "ok" {
			t.Fatalf("refresh: %s %s", st, resp)
		}
		// Refreshing C with another node's token closes C.
		ref = c.send(`"3"`, topicC, evAccessToken, map[string]string{"access_token": other.token})
		if st, resp := c.reply(topicC, ref); st != "error" || !strings.Contains(string(resp), "another caller") {
			t.Fatalf("foreign refresh: %s %s", st, resp)
		}
		if f := c.expect(topicC, evSystem); !strings.Contains(string(f.Payload), `"status":"error"`) {
			t.Fatalf("system %v", f)
		}
		c.expect(topicC, evClose)
		// B's token runs out: system error and phx_close with its join_ref.
		f := c.expect(topicB, evSystem)
		if !strings.Contains(string(f.Payload), "Token has expired") {
			t.Fatalf("expiry system message %v", f)
		}
		if f := c.expect(topicB, evClose); string(f.JoinRef) != `"2"` {
			t.Fatalf("phx_close join_ref %s", f.JoinRef)
		}
		// A lives on and still gets its changes.
		e.exec(`INSERT INTO jobs_configs (hash, config) VALUES ('h', '{}')`)
		e.exec(`INSERT INTO jobs (user_id, config_hash, total_iterations) VALUES ($1, 'h', 1)`, u)
		e.exec(`INSERT INTO jobs_chunks (job_id, node_id, config_hash, iterations, seed_offset, status) SELECT id, $1, 'h', 1, 0, 'running' FROM jobs`, n.id)
		if ch := c.expectChange(topicA); ch.Data.Type != "INSERT" || ch.Data.Record["node_id"] != n.id {
			t.Fatalf("change after refresh: %+v", ch)
		}
		// A refresh with a forged token closes A.
		ref = c.send(`"1"`, topicA, evAccessToken, map[string]string{"access_token": nodeToken(t, []byte("another secret that is 32 bytes!"), n.id, time.Hour)})
		if st, _ := c.reply(topicA, ref); st != "error" {
			t.Fatal(st)
		}
		c.expect(topicA, evSystem)
		c.expect(topicA, evClose)
		// Events on closed topics are unmatched.
		ref = c.send(`"1"`, topicA, evPresence, map[string]any{"type": "presence", "event": "untrack"})
		if st, resp := c.reply(topicA, ref); st != "error" || !strings.Contains(string(resp), "unmatched topic") {
			t.Fatalf("%s %s", st, resp)
		}
	})
}

// Every authorization rule refuses at join (or track) with a reason.
func TestAuthorizationRefusals(t *testing.T) {
	vsns(t, func(t *testing.T, vsn string) {
		e := newEnv(t, Limits{})
		u1, tok1 := e.user("alice")
		u2, tok2 := e.user("bob")
		a, b := e.newNode(u1), e.newNode(u2)
		job, err := e.a.svc.CreateJob(context.Background(), u2, sentinel.JobRequest{Config: examples.Quick(0), Iterations: 1})
		if err != nil {
			t.Fatal(err)
		}
		expired := nodeToken(t, testSecret, a.id, -time.Minute)
		forged := nodeToken(t, []byte("another secret that is 32 bytes!"), a.id, time.Hour)
		cases := []struct {
			name     string
			topic    string
			token    string
			bindings []map[string]string
			key      string
			reason   string
		}{
			{"node binds to another node's row", "realtime:node:x", a.token, []map[string]string{changes("*", "nodes", "id=eq."+b.id)}, "", "own row"},
			{"node binds to another node's chunks", "realtime:chunks:x", a.token, []map[string]string{changes("*", "jobs_chunks", "node_id=eq."+b.id)}, "", "own chunks"},
			{"node binds to chunks unfiltered", "realtime:chunks:x", a.token, []map[string]string{changes("*", "jobs_chunks", "")}, "", "own chunks"},
			{"node binds to chunks by job", "realtime:chunks:x", a.token, []map[string]string{changes("*", "jobs_chunks", "job_id=eq."+job.JobID)}, "", "own chunks"},
			{"node binds to jobs", "realtime:jobs", a.token, []map[string]string{changes("*", "jobs", "")}, "", "may not bind"},
			{"anon binds", "realtime:chunks:x", "", []map[string]string{changes("*", "jobs_chunks", "node_id=eq."+a.id)}, "", "node or user token"},
			{"user binds to another user's job", "realtime:job", tok1, []map[string]string{changes("*", "jobs", "id=eq."+job.JobID)}, "", "not your job"},
			{"user binds to another user's job's chunks", "realtime:job", tok1, []map[string]string{changes("*", "jobs_chunks", "job_id=eq."+job.JobID)}, "", "not your job"},
			{"user binds to another user's rows", "realtime:job", tok1, []map[string]string{changes("*", "jobs", "user_id=eq."+u2)}, "", "not your rows"},
			{"user binds to another user's node", "realtime:node", tok1, []map[string]string{changes("*", "nodes", "id=eq."+b.id)}, "", "not your node"},
			{"unknown table", "realtime:x", tok1, []map[string]string{changes("*", "users", "")}, "", "not available"},
			{"table without realtime", "realtime:x", tok1, []map[string]string{changes("*", "rotations", "")}, "", "not available"},
			{"other schema", "realtime:x", tok1, []map[string]string{{"event": "*", "schema": "auth", "table": "jobs", "filter": ""}}, "", "schema must be public"},
			{"bad event", "realtime:x", tok1, []map[string]string{changes("TRUNCATE", "jobs", "")}, "", "event must be"},
			{"operator other than eq", "realtime:x", tok1, []map[string]string{changes("*", "jobs", "status=neq.running")}, "", "only the eq operator"},
			{"unknown filter column", "realtime:x", tok1, []map[string]string{changes("*", "jobs", "secret=eq.1")}, "", "does not exist"},
			{"bad uuid", "realtime:x", a.token, []map[string]string{changes("*", "nodes", "id=eq.nope")}, "", "not a uuid"},
			{"expired token", "realtime:x", expired, nil, "", "expired"},
			{"forged token", "realtime:x", forged, nil, "", "signature"},
			{"unknown user token", "realtime:x", "wlu_nope", nil, "", "invalid user token"},
			{"presence key of another node", presenceTopic, a.token, nil, b.id, "own node id"},
			{"anon on nodes:presence", presenceTopic, "", nil, "", "node or user token"},
			{"topic without prefix", "nodes", a.token, nil, "", "realtime:<name>"},
		}
		c := e.connect(vsn)
		for _, tc := range cases {
			r := c.join(tc.topic, tc.token, tc.bindings, tc.key)
			if r.status != "error" || !strings.Contains(r.reason, tc.reason) {
				t.Errorf("%s: %s %q, want an error with %q", tc.name, r.status, r.reason, tc.reason)
			}
		}
		// Private channels are refused.
		ref := c.send(`"p"`, "realtime:private", evJoin, map[string]any{"config": map[string]any{"private": true}, "access_token": tok1})
		if st, resp := c.reply("realtime:private", ref); st != "error" || !strings.Contains(string(resp), "private") {
			t.Fatalf("private: %s %s", st, resp)
		}
		// Track refusals: a user on nodes:presence, a node claiming another id.
		if r := c.join(presenceTopic, tok1, nil, ""); r.status != "ok" {
			t.Fatalf("user observer join: %+v", r)
		}
		ref = c.send(`"x"`, presenceTopic, evPresence, map[string]any{"type": "presence", "event": "track", "payload": map[string]any{"node_id": a.id}})
		if st, resp := c.reply(presenceTopic, ref); st != "error" || !strings.Contains(string(resp), "only a node") {
			t.Fatalf("user track: %s %s", st, resp)
		}
		cn := e.connect(vsn)
		if r := cn.join(presenceTopic, a.token, nil, a.id); r.status != "ok" {
			t.Fatalf("node join: %+v", r)
		}
		ref = cn.send(`"x"`, presenceTopic, evPresence, map[string]any{"type": "presence", "event": "track", "payload": map[string]any{"node_id": b.id}})
		if st, resp := cn.reply(presenceTopic, ref); st != "error" || !strings.Contains(string(resp), "own node id") {
			t.Fatalf("foreign track: %s %s", st, resp)
		}
		// What a user may bind: its own job, its own node, unfiltered rows.
		own, err := e.a.svc.CreateJob(context.Background(), u1, sentinel.JobRequest{Config: examples.Quick(0), Iterations: 1})
		if err != nil {
			t.Fatal(err)
		}
		if r := c.join("realtime:mine", tok1, []map[string]string{
			changes("*", "jobs", "id=eq."+own.JobID), changes("*", "jobs_chunks", "job_id=eq."+own.JobID),
			changes("*", "nodes", "id=eq."+a.id), changes("*", "jobs", ""),
		}, ""); r.status != "ok" {
			t.Fatalf("user's own bindings: %+v", r)
		}
		// The unfiltered jobs binding shows only the user's own jobs: bob's
		// job changes first, then alice's; alice sees only hers.
		e.exec(`UPDATE jobs SET status = 'failed' WHERE id = $1`, job.JobID)
		e.exec(`UPDATE jobs SET status = 'failed' WHERE id = $1`, own.JobID)
		c.ignoreChanges(func(ch change) bool {
			return ch.Data.Type == "INSERT" && (ch.Data.Record["id"] == own.JobID || ch.Data.Record["job_id"] == own.JobID)
		})
		ch := c.expectChange("realtime:mine")
		if ch.Data.Table != "jobs" || ch.Data.Record["id"] != own.JobID {
			t.Fatalf("user saw %+v", ch.Data.Record)
		}
		_ = tok2
	})
}

// Malformed frames are answered or close only their own socket.
func TestMalformedFrames(t *testing.T) {
	vsns(t, func(t *testing.T, vsn string) {
		e := newEnv(t, Limits{})
		u, tok := e.user("alice")
		_ = u
		bystander := e.connect(vsn)
		if r := bystander.join("realtime:b", tok, nil, ""); r.status != "ok" {
			t.Fatal(r)
		}
		closing := []struct {
			name  string
			frame string
			code  websocket.StatusCode
		}{
			{"bad JSON", `{"topic":`, statusInvalidFrame},
			{"not JSON at all", `hello`, statusInvalidFrame},
			{"topic not a string", map[string]string{vsn1: `{"topic":1,"event":"heartbeat","payload":{},"ref":"1"}`, vsn2: `[null,"1",1,"heartbeat",{}]`}[vsn], statusInvalidFrame},
			{"ref an object", map[string]string{vsn1: `{"topic":"phoenix","event":"heartbeat","payload":{},"ref":{}}`, vsn2: `[null,{},"phoenix","heartbeat",{}]`}[vsn], statusInvalidFrame},
			{"wrong shape for the serializer", map[string]string{vsn1: `[null,"1","phoenix","heartbeat",{}]`, vsn2: `{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1"}`}[vsn], statusInvalidFrame},
		}
		if vsn == vsn2 {
			closing = append(closing, struct {
				name  string
				frame string
				code  websocket.StatusCode
			}{"four elements", `[null,"1","phoenix","heartbeat"]`, statusInvalidFrame})
		}
		for _, tc := range closing {
			c := e.connect(vsn)
			c.sendRaw(tc.frame)
			if ce := c.closeErr(); ce.Code != tc.code {
				t.Errorf("%s: closed with %v, want %v", tc.name, ce, tc.code)
			}
		}
		// A binary frame closes its socket.
		c := e.connect(vsn)
		if err := c.conn.Write(context.Background(), websocket.MessageBinary, []byte{1, 2}); err != nil {
			t.Fatal(err)
		}
		if ce := c.closeErr(); ce.Code != statusUnsupported {
			t.Errorf("binary: %v", ce)
		}
		// Answered: wrong payload type, unknown event, unmatched topic, bad
		// join payload.
		c = e.connect(vsn)
		if r := c.join("realtime:t", tok, nil, ""); r.status != "ok" {
			t.Fatal(r)
		}
		answered := []struct {
			name   string
			frame  string
			topic  string
			reason string
		}{
			{"payload a string", map[string]string{vsn1: `{"topic":"realtime:t","event":"presence","payload":"x","ref":"7","join_ref":"1"}`, vsn2: `["1","7","realtime:t","presence","x"]`}[vsn], "realtime:t", "payload must be a JSON object"},
			{"event a number", map[string]string{vsn1: `{"topic":"realtime:t","event":5,"payload":{},"ref":"7"}`, vsn2: `[null,"7","realtime:t",5,{}]`}[vsn], "realtime:t", "event must be"},
			{"unknown event", map[string]string{vsn1: `{"topic":"realtime:t","event":"explode","payload":{},"ref":"7"}`, vsn2: `[null,"7","realtime:t","explode",{}]`}[vsn], "realtime:t", "unknown event"},
			{"unmatched topic", map[string]string{vsn1: `{"topic":"realtime:nope","event":"presence","payload":{},"ref":"7"}`, vsn2: `[null,"7","realtime:nope","presence",{}]`}[vsn], "realtime:nope", "unmatched topic"},
			{"join payload with wrong types", map[string]string{vsn1: `{"topic":"realtime:j","event":"phx_join","payload":{"config":{"postgres_changes":"all"}},"ref":"7"}`, vsn2: `["7","7","realtime:j","phx_join",{"config":{"postgres_changes":"all"}}]`}[vsn], "realtime:j", "invalid join payload"},
			{"bad presence event", map[string]string{vsn1: `{"topic":"realtime:t","event":"presence","payload":{"event":"dance"},"ref":"7"}`, vsn2: `[null,"7","realtime:t","presence",{"event":"dance"}]`}[vsn], "realtime:t", "track or untrack"},
			{"broadcast", map[string]string{vsn1: `{"topic":"realtime:t","event":"broadcast","payload":{},"ref":"7"}`, vsn2: `[null,"7","realtime:t","broadcast",{}]`}[vsn], "realtime:t", "not supported"},
		}
		for _, tc := range answered {
			c.sendRaw(tc.frame)
			st, resp := c.reply(tc.topic, "7")
			if st != "error" || !strings.Contains(string(resp), tc.reason) {
				t.Errorf("%s: %s %s", tc.name, st, resp)
			}
		}
		// Both sockets still work.
		for _, s := range []*client{c, bystander} {
			ref := s.send("", "phoenix", evHeartbeat, map[string]any{})
			if st, _ := s.reply("phoenix", ref); st != "ok" {
				t.Fatal(st)
			}
		}
		// Leave answers ok and closes the channel.
		ref := c.send(`"1"`, "realtime:t", evLeave, map[string]any{})
		if st, _ := c.reply("realtime:t", ref); st != "ok" {
			t.Fatal(st)
		}
		c.expect("realtime:t", evClose)
	})
}

// A change written through instance A reaches a socket on instance B.
func TestCrossInstance(t *testing.T) {
	vsns(t, func(t *testing.T, vsn string) {
		e := newEnv(t, Limits{})
		instB := e.instance(Limits{}, false)
		u, tok := e.user("alice")
		n := e.newNode(u)
		c, err := e.dial(instB, vsn, e.anon)
		if err != nil {
			t.Fatal(err)
		}
		if r := c.join("realtime:chunks:"+n.id, n.token, []map[string]string{changes("*", "jobs_chunks", "node_id=eq."+n.id)}, ""); r.status != "ok" {
			t.Fatal(r)
		}
		if st, body := e.rest("POST", "/rest/v1/rpc/create_job", e.anon, tok, map[string]any{"p_config": json.RawMessage(examples.Quick(0)), "p_iterations": 10}); st != 200 {
			t.Fatalf("%d %s", st, body)
		}
		if k, err := e.a.svc.Schedule(context.Background()); err != nil || k != 1 {
			t.Fatalf("schedule on A: %d %v", k, err)
		}
		// Only the assignment matters here, not the chunk's writes before it.
		c.ignoreChanges(func(ch change) bool { return ch.Data.Record["status"] != "running" })
		if ch := c.expectChange("realtime:chunks:" + n.id); ch.Data.Record["node_id"] != n.id {
			t.Fatalf("%+v", ch)
		}
	})
}

// When the change feed reconnects (notifications may have been lost),
// channels with postgres_changes get phx_error so clients rejoin and
// resync; channels without bindings stay.
func TestFeedResetErrorsChannels(t *testing.T) {
	e := newEnv(t, Limits{})
	u, tok := e.user("alice")
	n := e.newNode(u)
	c := e.connect(vsn2)
	if r := c.join("realtime:chunks:"+n.id, n.token, []map[string]string{changes("*", "jobs_chunks", "node_id=eq."+n.id)}, ""); r.status != "ok" {
		t.Fatal(r)
	}
	if r := c.join("realtime:plain", tok, nil, ""); r.status != "ok" {
		t.Fatal(r)
	}
	e.exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, store.ListenApplicationName)
	f := c.expect("realtime:chunks:"+n.id, evError)
	if string(f.JoinRef) != `"1"` {
		t.Fatalf("phx_error join_ref %s", f.JoinRef)
	}
	// The rejoin works and changes flow again.
	if r := c.join("realtime:chunks:"+n.id, n.token, []map[string]string{changes("*", "jobs_chunks", "node_id=eq."+n.id)}, ""); r.status != "ok" {
		t.Fatal(r)
	}
	ref := c.send("", "realtime:plain", evPresence, map[string]any{"type": "presence", "event": "untrack"})
	if st, _ := c.reply("realtime:plain", ref); st != "ok" {
		t.Fatalf("plain channel after reset: %s", st)
	}
}

// Presence amplification without an account: a fresh key took a node
// token, joined nodes:presence and alternated track and untrack with a
// 60 KB meta, 90 times a second; one victim node got 827 frames (49.7 MB)
// in 10 s. Now an unclaimed node gets nothing but its own row, a meta is
// at most 1 KiB, changes are rate-limited per socket, and a node hears
// only its own presence.
func TestPresenceAmplification(t *testing.T) {
	vsns(t, func(t *testing.T, vsn string) {
		// The default burst of 5, refilled so slowly that a loaded machine
		// cannot earn the test another change.
		e := newEnv(t, Limits{PresenceChanges: sentinel.Rate{N: 5, Per: time.Hour}})
		alice, _ := e.user("alice")
		mallory, _ := e.user("mallory")
		victim := e.newNode(alice)
		fresh := e.newNode("")
		attacker := e.newNode(mallory)

		cv := e.connect(vsn)
		if r := cv.join(presenceTopic, victim.token, nil, victim.id); r.status != "ok" {
			t.Fatalf("victim join: %+v", r)
		}
		// The unclaimed node: its own row only.
		cf := e.connect(vsn)
		cf.ignoreChanges(nodeInserts)
		for _, tc := range []struct {
			topic    string
			bindings []map[string]string
			key      string
		}{
			{presenceTopic, nil, fresh.id},
			{"realtime:chunks:" + fresh.id, []map[string]string{changes("*", "jobs_chunks", "node_id=eq."+fresh.id)}, ""},
		} {
			if r := cf.join(tc.topic, fresh.token, tc.bindings, tc.key); r.status != "error" || !strings.Contains(r.reason, "unclaimed node") {
				t.Fatalf("unclaimed join %s: %+v", tc.topic, r)
			}
		}
		if r := cf.join("realtime:node:"+fresh.id, fresh.token, []map[string]string{changes("*", "nodes", "id=eq."+fresh.id)}, ""); r.status != "ok" {
			t.Fatalf("unclaimed node's own row: %+v", r)
		}
		ref := cf.send(`"1"`, "realtime:node:"+fresh.id, evPresence, map[string]any{"type": "presence", "event": "track", "payload": map[string]any{}})
		if st, resp := cf.reply("realtime:node:"+fresh.id, ref); st != "error" || !strings.Contains(string(resp), "unclaimed node") {
			t.Fatalf("unclaimed track: %s %s", st, resp)
		}

		// A claimed node of another user: big metas refused, churn limited.
		ca := e.connect(vsn)
		if r := ca.join(presenceTopic, attacker.token, nil, attacker.id); r.status != "ok" {
			t.Fatalf("attacker join: %+v", r)
		}
		big := map[string]any{"type": "presence", "event": "track", "payload": map[string]any{"node_id": attacker.id, "pad": strings.Repeat("x", 60_000)}}
		ref = ca.send(`"1"`, presenceTopic, evPresence, big)
		if st, resp := ca.reply(presenceTopic, ref); st != "error" || !strings.Contains(string(resp), "larger than 1024 bytes") {
			t.Fatalf("60 KB meta: %s %s", st, resp)
		}
		// The attacker hears its own presence; skip it to read the replies.
		heard := 0
		reply := func(ref string) (string, json.RawMessage) {
			for {
				f := ca.next()
				if f.Event == evDiff {
					heard++
					continue
				}
				if f.Event != evReply || string(f.Ref) != `"`+ref+`"` {
					t.Fatalf("attacker got %v", f)
				}
				var p struct {
					Status   string          `json:"status"`
					Response json.RawMessage `json:"response"`
				}
				_ = json.Unmarshal(f.Payload, &p)
				return p.Status, p.Response
			}
		}
		accepted, limited := 0, 0
		for i := range 40 {
			ev := "track"
			if i%2 == 1 {
				ev = "untrack"
			}
			ref := ca.send(`"1"`, presenceTopic, evPresence, map[string]any{"type": "presence", "event": ev, "payload": map[string]any{"node_id": attacker.id}})
			st, resp := reply(ref)
			switch {
			case st == "ok":
				accepted++
			case strings.Contains(string(resp), "presence changes are limited"):
				limited++
			default:
				t.Fatalf("change %d: %s %s", i, st, resp)
			}
		}
		// The first try (the big meta) took one change of the burst.
		if accepted != 4 || limited != 36 {
			t.Fatalf("%d changes accepted, %d limited; want 4 and 36", accepted, limited)
		}
		// The victim heard none of it: a heartbeat's reply is the next frame.
		ref = cv.send("", topicPhoenix, evHeartbeat, struct{}{})
		if f := cv.next(); f.Event != evReply || string(f.Ref) != `"`+ref+`"` {
			t.Fatalf("victim received %v", f)
		}
	})
}
