package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"wowlab/examples"
	"wowlab/sentinel"
)

// restFixture is a database with two users, a node each, three rotations
// and a job of user 1 whose chunk runs on user 1's node.
type restFixture struct {
	*env
	u1, u2      string
	tok1, tok2  string
	a, b        *node
	rotPub      string
	rotPriv1    string // referenced by the running chunk of node a
	rotPriv2    string
	jobID       string
	configHash  string
	config      string // the job's config document
	scriptPriv1 string
}

// Valid rotation scripts of the fixture's rotations, in the order their
// text sorts.
const (
	scriptPriv2 = `{"actions":[{"cast":"barbed_shot"}]}`
	scriptPub   = `{"actions":[{"cast":"cobra_shot"}]}`
)

// quickWith is examples.Quick(seed) with the given fields added.
func quickWith(t *testing.T, seed int64, fields map[string]any) json.RawMessage {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(examples.Quick(seed), &doc); err != nil {
		t.Fatal(err)
	}
	maps.Copy(doc, fields)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newRESTFixture(t *testing.T) *restFixture {
	e := newEnv(t, Limits{})
	f := &restFixture{env: e}
	f.u1, f.tok1 = e.user("alice")
	f.u2, f.tok2 = e.user("bob")
	f.a = e.newNode(f.u1)
	f.b = e.newNode(f.u2)
	ctx := context.Background()
	ins := func(user string, public bool, script string) string {
		var id string
		if err := e.pool.QueryRow(ctx, `INSERT INTO rotations (user_id, slug, name, script, is_public) VALUES ($1, 's', 'n', $2, $3) RETURNING id`,
			user, script, public).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	f.scriptPriv1 = `{"actions":[{"cast":"kill_command"}]}`
	f.rotPub = ins(f.u2, true, scriptPub)
	f.rotPriv1 = ins(f.u1, false, f.scriptPriv1)
	f.rotPriv2 = ins(f.u2, false, scriptPriv2)
	cfg := quickWith(t, 1, map[string]any{"rotationId": f.rotPriv1})
	f.config = string(cfg)
	job, err := e.a.svc.CreateJob(ctx, f.u1, sentinel.JobRequest{Config: cfg, Iterations: 500})
	if err != nil {
		t.Fatal(err)
	}
	f.jobID = job.JobID
	canon, _ := sentinel.CanonicalJSON(cfg)
	f.configHash = sentinel.ConfigHash(canon)
	if n, err := e.a.svc.Schedule(ctx); err != nil || n != 1 {
		t.Fatalf("schedule: %d %v", n, err)
	}
	return f
}

func TestRESTSelect(t *testing.T) {
	f := newRESTFixture(t)
	expired := nodeToken(t, testSecret, f.a.id, -time.Minute)
	forged := nodeToken(t, []byte("another secret that is 32 bytes!"), f.a.id, time.Hour)
	otherAnon := signToken(t, []byte("another secret that is 32 bytes!"), jwt.MapClaims{"role": "anon", "exp": time.Now().Add(time.Hour).Unix()})
	esc := url.QueryEscape
	cases := []struct {
		name   string
		path   string
		apikey string
		bearer string
		status int
		want   string // exact body, or a substring when prefixed with ~
	}{
		{"config by hash, node running it", "/rest/v1/jobs_configs?hash=eq." + f.configHash + "&select=config", f.anon, f.a.token, 200,
			`[{"config":` + f.config + `}]`},
		{"config by hash, its user", "/rest/v1/jobs_configs?hash=eq." + f.configHash + "&select=hash", f.anon, f.tok1, 200, `[{"hash":"` + f.configHash + `"}]`},
		{"config by hash, anon", "/rest/v1/jobs_configs?hash=eq." + f.configHash + "&select=config", f.anon, "", 200, `[]`},
		{"configs, anon", "/rest/v1/jobs_configs?select=hash", f.anon, "", 200, `[]`},
		{"config by hash, another user", "/rest/v1/jobs_configs?hash=eq." + f.configHash + "&select=config", f.anon, f.tok2, 200, `[]`},
		{"config by hash, another node", "/rest/v1/jobs_configs?hash=eq." + f.configHash + "&select=config", f.anon, f.b.token, 200, `[]`},
		{"config unknown hash", "/rest/v1/jobs_configs?hash=eq.abc&select=config", f.anon, f.anon, 200, `[]`},
		{"public rotation, anon", "/rest/v1/rotations?id=eq." + f.rotPub + "&select=id,script", f.anon, "", 200,
			`[{"id":"` + f.rotPub + `","script":` + strconv.Quote(scriptPub) + `}]`},
		{"private rotation, anon", "/rest/v1/rotations?id=eq." + f.rotPriv1 + "&select=id", f.anon, "", 200, `[]`},
		{"assigned private rotation, node", "/rest/v1/rotations?id=eq." + f.rotPriv1 + "&select=id,script", f.anon, f.a.token, 200,
			`[{"id":"` + f.rotPriv1 + `","script":` + strconv.Quote(f.scriptPriv1) + `}]`},
		{"unassigned private rotation, node", "/rest/v1/rotations?id=eq." + f.rotPriv2 + "&select=id", f.anon, f.a.token, 200, `[]`},
		{"private rotation of another node's chunk", "/rest/v1/rotations?id=eq." + f.rotPriv1 + "&select=id", f.anon, f.b.token, 200, `[]`},
		{"own private rotation, user", "/rest/v1/rotations?id=eq." + f.rotPriv2 + "&select=id", f.anon, f.tok2, 200, `[{"id":"` + f.rotPriv2 + `"}]`},
		{"other's private rotation, user", "/rest/v1/rotations?id=eq." + f.rotPriv2 + "&select=id", f.anon, f.tok1, 200, `[]`},
		{"in and order", "/rest/v1/rotations?id=in.(" + f.rotPub + "," + f.rotPriv2 + ")&select=script&order=script.desc", f.anon, f.tok2, 200,
			`[{"script":` + strconv.Quote(scriptPub) + `},{"script":` + strconv.Quote(scriptPriv2) + `}]`},
		{"limit", "/rest/v1/rotations?select=id&order=script.asc&limit=1", f.anon, f.tok2, 200, `[{"id":"` + f.rotPriv2 + `"}]`},
		{"url-encoded value", "/rest/v1/rotations?script=eq." + esc(scriptPub) + "&select=id", f.anon, "", 200, `[{"id":"` + f.rotPub + `"}]`},
		{"not.eq and is", "/rest/v1/rotations?script=not.eq." + esc(scriptPub) + "&description=is.null&select=id", f.anon, f.tok2, 200, `[{"id":"` + f.rotPriv2 + `"}]`},
		{"running chunks, node (resync)", "/rest/v1/jobs_chunks?node_id=eq." + f.a.id + "&status=eq.running&select=iterations,config_hash,seed_offset", f.anon, f.a.token, 200,
			`[{"iterations":500,"config_hash":"` + f.configHash + `","seed_offset":0}]`},
		{"other node's chunks, node", "/rest/v1/jobs_chunks?node_id=eq." + f.a.id + "&select=id", f.anon, f.b.token, 200, `[]`},
		{"own job's chunks, user", "/rest/v1/jobs_chunks?job_id=eq." + f.jobID + "&select=status", f.anon, f.tok1, 200, `[{"status":"running"}]`},
		{"other's job's chunks, user", "/rest/v1/jobs_chunks?job_id=eq." + f.jobID + "&select=status", f.anon, f.tok2, 200, `[]`},
		{"own job", "/rest/v1/jobs?id=eq." + f.jobID + "&select=status,total_iterations", f.anon, f.tok1, 200, `[{"status":"running","total_iterations":500}]`},
		{"other's job", "/rest/v1/jobs?id=eq." + f.jobID, f.anon, f.tok2, 200, `[]`},
		{"jobs, node", "/rest/v1/jobs?id=eq." + f.jobID, f.anon, f.a.token, 200, `[]`},
		{"own node row, node", "/rest/v1/nodes?id=eq." + f.a.id + "&select=user_id", f.anon, f.a.token, 200, `[{"user_id":"` + f.u1 + `"}]`},
		{"other node row, node", "/rest/v1/nodes?id=eq." + f.b.id + "&select=id", f.anon, f.a.token, 200, `[]`},
		{"own nodes, user", "/rest/v1/nodes?select=id", f.anon, f.tok2, 200, `[{"id":"` + f.b.id + `"}]`},
		{"nodes, anon", "/rest/v1/nodes?select=id", f.anon, "", 200, `[]`},
		{"unknown column in select", "/rest/v1/rotations?select=id,password", f.anon, "", 400, `~"code":"42703"`},
		{"unknown filter column", "/rest/v1/rotations?password=eq.x", f.anon, "", 400, `~"code":"42703"`},
		{"unknown table", "/rest/v1/users?select=id", f.anon, "", 400, `~"code":"42P01"`},
		{"unknown operator", "/rest/v1/rotations?id=like.x", f.anon, "", 400, `~"code":"PGRST100"`},
		{"no operator", "/rest/v1/rotations?id=x", f.anon, "", 400, `~"code":"PGRST100"`},
		{"bad uuid", "/rest/v1/rotations?id=eq.nope", f.anon, "", 400, `~"code":"22P02"`},
		{"bad limit", "/rest/v1/rotations?limit=-1", f.anon, "", 400, `~"code":"PGRST100"`},
		{"embedding", "/rest/v1/rotations?select=id,users(name)", f.anon, "", 400, `~"code":"PGRST100"`},
		{"filter on jsonb", "/rest/v1/jobs_configs?config=eq.x", f.anon, "", 400, `~"code":"PGRST100"`},
		{"injection attempt in value", "/rest/v1/rotations?script=eq." + esc("x' OR '1'='1") + "&select=id", f.anon, "", 200, `[]`},
		{"injection attempt in column", "/rest/v1/rotations?select=" + esc("id;DROP TABLE jobs"), f.anon, "", 400, `~"code":"42703"`},
		{"missing apikey", "/rest/v1/jobs_configs?select=hash", "", "", 401, `~No API key`},
		{"forged apikey", "/rest/v1/jobs_configs?select=hash", otherAnon, "", 401, `~invalid API key`},
		{"node token as apikey", "/rest/v1/jobs_configs?select=hash", f.a.token, "", 401, `~not an anon key`},
		{"expired bearer", "/rest/v1/jobs_configs?select=hash", f.anon, expired, 401, `~expired`},
		{"forged bearer", "/rest/v1/jobs_configs?select=hash", f.anon, forged, 401, `~signature`},
		{"unknown user token", "/rest/v1/jobs_configs?select=hash", f.anon, "wlu_nope", 401, `~invalid user token`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := f.rest("GET", c.path, c.apikey, c.bearer, nil)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, body)
			}
			if sub, ok := strings.CutPrefix(c.want, "~"); ok {
				if !strings.Contains(string(body), sub) {
					t.Fatalf("body %s lacks %s", body, sub)
				}
				var e RESTError
				if err := json.Unmarshal(body, &e); err != nil || e.Code == "" || e.Message == "" {
					t.Fatalf("not a PostgREST error: %s", body)
				}
				if !strings.Contains(string(body), `"details":`) || !strings.Contains(string(body), `"hint":`) {
					t.Fatalf("error lacks details or hint: %s", body)
				}
				return
			}
			assertJSON(t, body, c.want)
		})
	}
	// The tables were not harmed by the injection attempts.
	if status, body := f.rest("GET", "/rest/v1/jobs?select=id", f.anon, f.tok1, nil); status != 200 || !strings.Contains(string(body), f.jobID) {
		t.Fatalf("jobs after injection attempts: %d %s", status, body)
	}
}

func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("answer is not JSON: %s", got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation %s", want)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Fatalf("got %s, want %s", gb, wb)
	}
}

func TestRESTSingleObject(t *testing.T) {
	f := newRESTFixture(t)
	status, body := f.rest("GET", "/rest/v1/rotations?id=eq."+f.rotPub+"&select=id", f.anon, "", nil, "Accept", singleObject)
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	assertJSON(t, body, `{"id":"`+f.rotPub+`"}`)
	status, body = f.rest("GET", "/rest/v1/rotations?id=eq."+f.rotPriv2+"&select=id", f.anon, "", nil, "Accept", singleObject)
	if status != 406 || !strings.Contains(string(body), "PGRST116") {
		t.Fatalf("%d %s", status, body)
	}
}

// The checksum of a rotation is kept current by the database.
func TestRotationChecksum(t *testing.T) {
	f := newRESTFixture(t)
	check := func(script string) {
		t.Helper()
		status, body := f.rest("GET", "/rest/v1/rotations?id=eq."+f.rotPriv1+"&select=script,checksum", f.anon, f.tok1, nil)
		sum := sha256.Sum256([]byte(script))
		if status != 200 {
			t.Fatalf("%d %s", status, body)
		}
		assertJSON(t, body, `[{"script":`+strconv.Quote(script)+`,"checksum":"`+hex.EncodeToString(sum[:])+`"}]`)
	}
	check(f.scriptPriv1)
	f.exec(`UPDATE rotations SET script = 'cast arcane_shot' WHERE id = $1`, f.rotPriv1)
	check("cast arcane_shot")
}

func TestRPC(t *testing.T) {
	f := newRESTFixture(t)
	// create_job with a user token, by config and then by hash.
	status, body := f.rest("POST", "/rest/v1/rpc/create_job", f.anon, f.tok1, map[string]any{"p_config": json.RawMessage(examples.Quick(9)), "p_iterations": 2500})
	if status != 200 || !strings.Contains(string(body), `"chunks":3`) {
		t.Fatalf("create_job: %d %s", status, body)
	}
	status, body = f.rest("POST", "/rest/v1/rpc/create_job", f.anon, f.tok1, map[string]any{"p_config_hash": f.configHash, "p_iterations": 10})
	if status != 200 || !strings.Contains(string(body), `"jobId"`) {
		t.Fatalf("create_job by hash: %d %s", status, body)
	}
	fresh, byCode := f.newNode(""), f.newNode("")
	cases := []struct {
		name   string
		fn     string
		bearer string
		args   any
		status int
		want   string
	}{
		{"create_job with a node token", "create_job", f.a.token, map[string]any{"p_config": map[string]any{}, "p_iterations": 1}, 403, `"42501"`},
		{"create_job anon", "create_job", "", map[string]any{"p_config": map[string]any{}, "p_iterations": 1}, 401, `"42501"`},
		{"create_job bad iterations", "create_job", f.tok1, map[string]any{"p_config": map[string]any{}, "p_iterations": 0}, 400, "p_iterations"},
		{"create_job bad JSON", "create_job", f.tok1, json.RawMessage(`{`), 400, "invalid JSON"},
		{"create_job unknown hash", "create_job", f.tok1, map[string]any{"p_config_hash": strings.Repeat("a", 64), "p_iterations": 1}, 404, "no stored config"},
		{"unknown rpc", "drop_everything", f.tok1, map[string]any{}, 404, "PGRST202"},
		{"verify_claim_code", "verify_claim_code", f.tok1, map[string]any{"p_code": strings.ToLower(fresh.code[:3]) + "-" + fresh.code[3:]}, 200, `"id":"` + fresh.id + `"`},
		{"verify bad code", "verify_claim_code", f.tok1, map[string]any{"p_code": "ZZZZZZ"}, 404, "Invalid or expired claim code"},
		{"claim_node by another user", "claim_node", f.tok2, map[string]any{"p_node_id": fresh.id}, 403, "verify_claim_code"},
		{"claim_node", "claim_node", f.tok1, map[string]any{"p_node_id": fresh.id, "p_name": "rig", "p_max_parallel": 2}, 200, `"maxParallel":2`},
		{"claim_node again", "claim_node", f.tok1, map[string]any{"p_node_id": fresh.id}, 403, "verify_claim_code"},
		{"claim_node by code", "claim_node", f.tok2, map[string]any{"p_code": byCode.code, "p_name": "desk"}, 200, `"name":"desk"`},
		{"claim_node by code again", "claim_node", f.tok1, map[string]any{"p_code": byCode.code}, 404, "Invalid or expired claim code"},
		{"claim_node without id", "claim_node", f.tok2, map[string]any{}, 400, "p_node_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var args any = c.args
			if raw, ok := c.args.(json.RawMessage); ok {
				args = rawBody(raw)
			}
			status, body := f.rest("POST", "/rest/v1/rpc/"+c.fn, f.anon, c.bearer, args)
			if status != c.status || !strings.Contains(string(body), c.want) {
				t.Fatalf("%d %s; want %d with %s", status, body, c.status, c.want)
			}
		})
	}
	// The claim went through the service: the node row is the user's.
	status, body = f.rest("GET", "/rest/v1/nodes?id=eq."+fresh.id+"&select=name,max_parallel,claim_code", f.anon, f.tok1, nil)
	if status != 200 {
		t.Fatal(status)
	}
	assertJSON(t, body, `[{"name":"rig","max_parallel":2,"claim_code":null}]`)
}

// rawBody is a request body sent as it is, even when invalid JSON.
type rawBody []byte

// The exposed schema matches the migrated database's catalog.
func TestSchemaMatchesCatalog(t *testing.T) {
	e := newEnv(t, Limits{})
	for name, tbl := range newSchema() {
		rows, err := e.pool.Query(context.Background(), `SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
			WHERE a.attrelid = ('public.' || $1)::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, name)
		if err != nil {
			t.Fatal(err)
		}
		var got []column
		for rows.Next() {
			var c column
			if err := rows.Scan(&c.name, &c.typ); err != nil {
				t.Fatal(err)
			}
			got = append(got, c)
		}
		rows.Close()
		if len(got) != len(tbl.columns) {
			t.Fatalf("%s: catalog has %v, gateway %v", name, got, tbl.columns)
		}
		for i := range got {
			if got[i] != tbl.columns[i] {
				t.Fatalf("%s column %d: catalog %v, gateway %v", name, i, got[i], tbl.columns[i])
			}
		}
	}
}

// Guessing claim codes over REST runs into 429 with Retry-After and a
// PostgREST-shaped error, a right code included, while another user from
// another address is unaffected.
func TestClaimCodeGuessingOverREST(t *testing.T) {
	e := newEnv(t, Limits{})
	_, tok := e.user("mallory")
	n := e.newNode("")
	wrong := "AAAAAA"
	if n.code == wrong {
		wrong = "BBBBBB"
	}
	for i := range sentinel.DefaultClaimChecksPerUser.N {
		if st, body := e.rest("POST", "/rest/v1/rpc/verify_claim_code", e.anon, tok, map[string]any{"p_code": wrong}); st != 404 {
			t.Fatalf("guess %d: %d %s", i, st, body)
		}
	}
	body, _ := json.Marshal(map[string]any{"p_code": n.code})
	req, _ := http.NewRequest("POST", e.a.srv.URL+"/rest/v1/rpc/verify_claim_code", bytes.NewReader(body))
	req.Header.Set("apikey", e.anon)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rerr RESTError
	if err := json.NewDecoder(resp.Body).Decode(&rerr); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "30" || rerr.Code != "53400" || !strings.Contains(rerr.Message, "try again in 30s") {
		t.Fatalf("over the limit: %d Retry-After %q %+v", resp.StatusCode, resp.Header.Get("Retry-After"), rerr)
	}
}

// The attack run read another user's private rotation: anyone with the
// anon key listed every config with its rotationId, a user could create a
// job with another user's config hash, the chunk ran on the user's own node
// and that node's token then read the private rotation. Each step is now
// refused and writes nothing.
func TestPrivateRotationStaysPrivate(t *testing.T) {
	f := newRESTFixture(t) // alice (u1) has a job whose config names her private rotation rotPriv1
	mallory, malTok := f.user("mallory")
	malNode := f.newNode(mallory)
	// Listing configs anonymously shows nothing.
	if st, body := f.rest("GET", "/rest/v1/jobs_configs?select=hash,config", f.anon, "", nil); st != 200 || string(body) != `[]` {
		t.Fatalf("anon list: %d %s", st, body)
	}
	if st, body := f.rest("GET", "/rest/v1/jobs_configs?select=hash,config", f.anon, malTok, nil); st != 200 || string(body) != `[]` {
		t.Fatalf("another user's list: %d %s", st, body)
	}
	// Alice's hash, known somehow, does not make her config Mallory's.
	st, body := f.rest("POST", "/rest/v1/rpc/create_job", f.anon, malTok, map[string]any{"p_config_hash": f.configHash, "p_iterations": 1000})
	if st != 404 || !strings.Contains(string(body), "among your jobs") {
		t.Fatalf("create_job with another user's hash: %d %s", st, body)
	}
	// Nor may Mallory's own config name Alice's private rotation.
	st, body = f.rest("POST", "/rest/v1/rpc/create_job", f.anon, malTok, map[string]any{"p_config": quickWith(t, 2, map[string]any{"rotationId": f.rotPriv1}), "p_iterations": 1000})
	if st != 403 || !strings.Contains(string(body), "not yours and not public") {
		t.Fatalf("create_job naming another user's rotation: %d %s", st, body)
	}
	for _, bad := range []any{strings.ToUpper(f.rotPriv1), "none", 42} {
		st, body = f.rest("POST", "/rest/v1/rpc/create_job", f.anon, malTok, map[string]any{"p_config": quickWith(t, 2, map[string]any{"rotationId": bad}), "p_iterations": 1000})
		if st != 400 || !strings.Contains(string(body), "rotationId") {
			t.Fatalf("create_job with rotationId %v: %d %s", bad, st, body)
		}
	}
	var jobs int
	if err := f.pool.QueryRow(context.Background(), "SELECT count(*) FROM jobs WHERE user_id = $1", mallory).Scan(&jobs); err != nil || jobs != 0 {
		t.Fatalf("refused submissions wrote %d jobs (%v)", jobs, err)
	}
	// Public and own rotations are fine, by config and then by hash.
	pubCfg := quickWith(t, 3, map[string]any{"rotationId": f.rotPub})
	st, body = f.rest("POST", "/rest/v1/rpc/create_job", f.anon, malTok, map[string]any{"p_config": pubCfg, "p_iterations": 1000})
	if st != 200 {
		t.Fatalf("create_job with a public rotation: %d %s", st, body)
	}
	canon, _ := sentinel.CanonicalJSON(pubCfg)
	if st, body = f.rest("POST", "/rest/v1/rpc/create_job", f.anon, malTok, map[string]any{"p_config_hash": sentinel.ConfigHash(canon), "p_iterations": 1000}); st != 200 {
		t.Fatalf("create_job by the hash of an own job's config: %d %s", st, body)
	}
	// Even a job that names another user's rotation (written around the
	// service, as an older sentinel allowed) lends its node nothing.
	f.exec(`INSERT INTO jobs_configs (hash, config) VALUES ('stolen', jsonb_build_object('rotationId', $1::text))`, f.rotPriv1)
	f.exec(`INSERT INTO jobs (id, user_id, config_hash, total_iterations, status) VALUES (gen_random_uuid(), $1, 'stolen', 1000, 'running')`, mallory)
	f.exec(`INSERT INTO jobs_chunks (job_id, node_id, config_hash, iterations, seed_offset, status)
		SELECT id, $1, 'stolen', 1000, 0, 'running' FROM jobs WHERE config_hash = 'stolen'`, malNode.id)
	st, body = f.rest("GET", "/rest/v1/rotations?id=eq."+f.rotPriv1+"&select=script", f.anon, malNode.token, nil)
	if st != 200 || string(body) != `[]` {
		t.Fatalf("mallory's node read alice's rotation: %d %s", st, body)
	}
	// Alice's own node still reads it for her chunk.
	st, body = f.rest("GET", "/rest/v1/rotations?id=eq."+f.rotPriv1+"&select=script", f.anon, f.a.token, nil)
	if st != 200 || !strings.Contains(string(body), strconv.Quote(f.scriptPriv1)) {
		t.Fatalf("alice's node: %d %s", st, body)
	}
}

// create_job compiles the config and its rotation with the engine, as a
// node will, and refuses what cannot run with the engine's message and
// JSON path; nothing is written.
func TestCreateJobCheckedByEngine(t *testing.T) {
	f := newRESTFixture(t)
	ctx := context.Background()
	badRot := `{"actions":[{"cast":"kill_comand"}]}`
	var badRotID string
	if err := f.pool.QueryRow(ctx, `INSERT INTO rotations (user_id, slug, name, script) VALUES ($1, 's', 'n', $2) RETURNING id`,
		f.u1, badRot).Scan(&badRotID); err != nil {
		t.Fatal(err)
	}
	unknownSpec := quickWith(t, 1, nil)
	unknownSpec = bytes.Replace(unknownSpec, []byte(`"beast_mastery"`), []byte(`"warrior"`), 1)
	cases := []struct {
		name string
		args any
		want string
	}{
		{"empty config", map[string]any{"p_config": map[string]any{}, "p_iterations": 1000}, "player: missing"},
		{"unknown spec", map[string]any{"p_config": unknownSpec, "p_iterations": 1000}, "player.spec"},
		{"rotation with an unknown spell", map[string]any{"p_config": quickWith(t, 1, map[string]any{"rotation": badRot}), "p_iterations": 1000},
			`rotation.actions[0].cast: unknown spell \"kill_comand\"`},
		{"stored rotation with an unknown spell", map[string]any{"p_config": quickWith(t, 1, map[string]any{"rotationId": badRotID}), "p_iterations": 1000},
			`unknown spell \"kill_comand\"; did you mean \"kill_command\"?`},
		{"negative duration", map[string]any{"p_config": quickWith(t, 1, map[string]any{"duration": -5}), "p_iterations": 1000}, "duration"},
		{"NaN iterations", rawBody(`{"p_config":` + string(examples.Quick(1)) + `,"p_iterations":NaN}`), "invalid JSON"},
		{"fractional iterations", rawBody(`{"p_config":` + string(examples.Quick(1)) + `,"p_iterations":1.5}`), "invalid JSON"},
		{"absurd iterations", map[string]any{"p_config": json.RawMessage(examples.Quick(1)), "p_iterations": 1e15}, "p_iterations"},
	}
	var before int
	if err := f.pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM jobs) + (SELECT count(*) FROM jobs_configs)").Scan(&before); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, body := f.rest("POST", "/rest/v1/rpc/create_job", f.anon, f.tok1, c.args)
			if st != 400 || !strings.Contains(string(body), c.want) {
				t.Fatalf("%d %s, want 400 with %s", st, body, c.want)
			}
		})
	}
	var after int
	if err := f.pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM jobs) + (SELECT count(*) FROM jobs_configs)").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Fatalf("refused jobs wrote rows: %d -> %d", before, after)
	}
}
