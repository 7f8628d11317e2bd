package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

// rotation adds a rotation of owner ("" for none) and returns it.
func (f *fixture) rotation(r store.Rotation) store.Rotation {
	f.t.Helper()
	if r.ID == "" {
		r.ID = uuid.NewString()
	}
	if r.Name == "" {
		r.Name = "rotation " + r.Slug
	}
	if r.Script == "" {
		r.Script = "cast " + r.Slug
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = t0
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	f.check(f.s.CreateRotation(f.ctx, r))
	return r
}

// jobUsing creates a job of owner whose config names a rotation.
func (f *fixture) jobUsing(owner, rotationID string, iterations int, now time.Time) store.NewJob {
	f.t.Helper()
	j := newJob(owner, iterations, "private", now)
	j.Config = []byte(`{"rotationId":"` + rotationID + `","seed":` + strconv.Itoa(len(rotationID)+iterations) + `}`)
	j.Job.ConfigHash = hashOf(string(j.Config))
	f.check(f.s.CreateJob(f.ctx, j))
	return j
}

// selectRows runs q and decodes its rows, checking that the answer is a
// JSON array of objects whose keys are the selected columns in order.
func (f *fixture) selectRows(q store.Query) []map[string]any {
	f.t.Helper()
	raw, err := f.s.Select(f.ctx, q)
	if err != nil {
		f.t.Fatalf("Select(%+v): %v", q, err)
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil || rows == nil {
		f.t.Fatalf("Select(%+v) = %s, not a JSON array (%v)", q, raw, err)
	}
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		keys := objectKeys(f, r)
		if len(q.Columns) > 0 && !slices.Equal(keys, q.Columns) {
			f.t.Fatalf("Select(%+v) row %s: keys %v, want %v", q, r, keys, q.Columns)
		}
		d := json.NewDecoder(bytes.NewReader(r))
		d.UseNumber()
		if err := d.Decode(&out[i]); err != nil {
			f.t.Fatalf("row %s: %v", r, err)
		}
	}
	return out
}

// objectKeys returns the keys of a JSON object in their order.
func objectKeys(f *fixture, obj json.RawMessage) []string {
	f.t.Helper()
	d := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		f.t.Fatalf("row %s is not an object", obj)
	}
	var keys []string
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			f.t.Fatalf("row %s: %v", obj, err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			f.t.Fatalf("row %s: %v", obj, err)
		}
	}
	return keys
}

// column runs q and returns column col of its rows as text, in order.
func (f *fixture) column(q store.Query, col string) []string {
	f.t.Helper()
	rows := f.selectRows(q)
	out := make([]string, len(rows))
	for i, r := range rows {
		v, ok := r[col]
		if !ok {
			f.t.Fatalf("row %v lacks %s", r, col)
		}
		switch v := v.(type) {
		case nil:
			out[i] = "<null>"
		case string:
			out[i] = v
		case json.Number:
			out[i] = v.String()
		default:
			f.t.Fatalf("column %s holds %T", col, v)
		}
	}
	return out
}

func anon() store.Access { return store.Access{Role: store.AccessAnon} }
func asUser(id string) store.Access {
	return store.Access{Role: store.AccessUser, UserID: id}
}
func asNode(id string) store.Access {
	return store.Access{Role: store.AccessNode, NodeID: id}
}

// Every row access rule, for every table and kind of reader.
func testSelectAccess(f *fixture) {
	t := f.t
	u1, u2 := f.user("alice"), f.user("bob")
	t1 := t0.Add(time.Minute)
	nA := f.online(u1.ID, 4, t1) // runs a chunk of j1
	nB := f.online(u2.ID, 4, t1) // ran, and completed, the chunk of j2
	unclaimed := f.node(t0)
	rPub := f.rotation(store.Rotation{UserID: u2.ID, Slug: "pub", IsPublic: true})
	rPriv1 := f.rotation(store.Rotation{UserID: u1.ID, Slug: "priv1"})
	rPriv2 := f.rotation(store.Rotation{UserID: u2.ID, Slug: "priv2"})
	rOrphan := f.rotation(store.Rotation{Slug: "orphan"})
	j1 := f.jobUsing(u1.ID, rPriv1.ID, 2000, t0)
	j2 := f.jobUsing(u2.ID, rPriv2.ID, 1000, t0)
	// A config naming a rotation in upper case names no rotation.
	upper := f.jobUsing(u1.ID, strings.ToUpper(rOrphan.ID), 1000, t0)
	// A job of alice naming bob's private rotation (the service refuses to
	// create one; the rule holds even so) lends her node nothing of bob's.
	steal := f.jobUsing(u1.ID, rPriv2.ID, 1000, t0)
	f.assign(t1, nA.ID, j1.Chunks[0].ID, upper.Chunks[0].ID, steal.Chunks[0].ID)
	f.assign(t1, nB.ID, j2.Chunks[0].ID)
	if _, err := f.completeOne(store.Completion{ChunkID: j2.Chunks[0].ID, NodeID: nB.ID, Result: result(1000, 5), Now: t1}, sumAggregate); err != nil {
		t.Fatal(err)
	}

	ids := func(ss ...string) []string { return ss }
	cases := []struct {
		table  string
		access store.Access
		want   []string // ids (hash for jobs_configs)
	}{
		{"rotations", anon(), ids(rPub.ID)},
		{"rotations", asUser(u1.ID), ids(rPub.ID, rPriv1.ID)},
		{"rotations", asUser(u2.ID), ids(rPub.ID, rPriv2.ID)},
		{"rotations", asNode(nA.ID), ids(rPub.ID, rPriv1.ID)},
		{"rotations", asNode(nB.ID), ids(rPub.ID)}, // its chunk is no longer running
		{"rotations", asNode(unclaimed.ID), ids(rPub.ID)},
		{"jobs", anon(), nil},
		{"jobs", asNode(nA.ID), nil},
		{"jobs", asUser(u2.ID), ids(j2.Job.ID)},
		{"jobs_chunks", anon(), nil},
		{"jobs_chunks", asUser(u1.ID), ids(j1.Chunks[0].ID, j1.Chunks[1].ID, upper.Chunks[0].ID, steal.Chunks[0].ID)},
		{"jobs_chunks", asUser(u2.ID), ids(j2.Chunks[0].ID)},
		{"jobs_chunks", asNode(nA.ID), ids(j1.Chunks[0].ID, upper.Chunks[0].ID, steal.Chunks[0].ID)},
		{"jobs_chunks", asNode(nB.ID), ids(j2.Chunks[0].ID)},
		{"jobs_chunks", asNode(unclaimed.ID), nil},
		{"nodes", anon(), nil},
		{"nodes", asUser(u1.ID), ids(nA.ID)},
		{"nodes", asUser(u2.ID), ids(nB.ID)},
		{"nodes", asNode(nA.ID), ids(nA.ID)},
		{"nodes", asNode(unclaimed.ID), ids(unclaimed.ID)},
		{"nodes", asUser(uuid.NewString()), nil},
	}
	for _, c := range cases {
		got := f.column(store.Query{Table: c.table, Columns: []string{"id"}, Limit: store.MaxRows, Access: c.access}, "id")
		if !sameIDs(got, c.want) {
			t.Errorf("%s as %+v: got %v, want %v", c.table, c.access, got, c.want)
		}
	}
	// jobs_configs: those of the user's jobs, those of the node's running
	// chunks; anon none.
	hash := func(js ...store.NewJob) []string {
		var hs []string
		for _, j := range js {
			hs = append(hs, j.Job.ConfigHash)
		}
		return hs
	}
	for _, c := range []struct {
		access store.Access
		want   []string
	}{
		{anon(), nil},
		{asUser(u1.ID), hash(j1, upper, steal)},
		{asUser(u2.ID), hash(j2)},
		{asNode(nA.ID), hash(j1, upper, steal)},
		{asNode(nB.ID), nil}, // its chunk completed
		{asNode(unclaimed.ID), nil},
		{asUser(uuid.NewString()), nil},
	} {
		got := f.column(store.Query{Table: "jobs_configs", Columns: []string{"hash"}, Limit: store.MaxRows, Access: c.access}, "hash")
		if !sameIDs(got, c.want) {
			t.Errorf("jobs_configs as %+v: got %v, want %v", c.access, got, c.want)
		}
	}
}

// operatorFixture is a user with three rotations only it can read besides
// public ones (rB is public), to filter and order.
type operatorFixture struct {
	user       store.User
	rA, rB, rC store.Rotation
}

func (f *fixture) operatorRows() operatorFixture {
	u := f.user("carol")
	return operatorFixture{
		user: u,
		rA: f.rotation(store.Rotation{UserID: u.ID, Slug: "a", Description: "first", SpecID: 1,
			CreatedAt: t0}),
		rB: f.rotation(store.Rotation{UserID: u.ID, Slug: "b", IsPublic: true, SpecID: 2,
			CreatedAt: t0.Add(time.Second)}),
		rC: f.rotation(store.Rotation{UserID: u.ID, Slug: "c", Description: "third",
			CreatedAt: t0.Add(2500 * time.Millisecond)}),
	}
}

// slugs runs a query on the fixture's rotations and returns their slugs.
func (f *fixture) slugs(o operatorFixture, filters []store.Filter, orders []store.Order, limit, offset int) []string {
	f.t.Helper()
	if orders == nil {
		orders = []store.Order{{Column: "slug"}}
	}
	q := store.Query{Table: "rotations", Columns: []string{"slug"}, Limit: limit, Offset: offset, Access: asUser(o.user.ID),
		Orders:  orders,
		Filters: append([]store.Filter{{Column: "user_id", Op: store.OpEq, Values: []string{o.user.ID}}}, filters...)}
	return f.column(q, "slug")
}

// Every operator, negated too, on every comparable type.
func testSelectOperators(f *fixture) {
	o := f.operatorRows()
	flt := func(col, op string, not bool, vals ...string) store.Filter {
		if vals == nil {
			vals = []string{}
		}
		return store.Filter{Column: col, Op: op, Not: not, Values: vals}
	}
	cases := []struct {
		name string
		f    store.Filter
		want []string
	}{
		{"eq text", flt("slug", store.OpEq, false, "a"), []string{"a"}},
		{"not eq text", flt("slug", store.OpEq, true, "a"), []string{"b", "c"}},
		{"neq text", flt("slug", store.OpNeq, false, "b"), []string{"a", "c"}},
		{"text injection is a value", flt("slug", store.OpEq, false, "a' OR '1'='1"), []string{}},
		{"gt int, null excluded", flt("spec_id", store.OpGt, false, "1"), []string{"b"}},
		{"gte int", flt("spec_id", store.OpGte, false, "1"), []string{"a", "b"}},
		{"lt int", flt("spec_id", store.OpLt, false, "2"), []string{"a"}},
		{"lte int with spaces", flt("spec_id", store.OpLte, false, " 2 "), []string{"a", "b"}},
		{"not eq int, null excluded", flt("spec_id", store.OpEq, true, "1"), []string{"b"}},
		{"eq uuid", flt("id", store.OpEq, false, o.rA.ID), []string{"a"}},
		{"eq uuid upper case", flt("id", store.OpEq, false, strings.ToUpper(o.rC.ID)), []string{"c"}},
		{"lt timestamp", flt("created_at", store.OpLt, false, "2027-01-15T08:00:01Z"), []string{"a"}},
		{"lte timestamp", flt("created_at", store.OpLte, false, "2027-01-15T08:00:01Z"), []string{"a", "b"}},
		{"eq timestamp in another zone", flt("created_at", store.OpEq, false, "2027-01-15T09:00:02.5+01:00"), []string{"c"}},
		{"gt timestamp with a space", flt("created_at", store.OpGt, false, "2027-01-15 08:00:01+00:00"), []string{"c"}},
		{"eq bool", flt("is_public", store.OpEq, false, "true"), []string{"b"}},
		{"eq bool f", flt("is_public", store.OpEq, false, "f"), []string{"a", "c"}},
		{"in text", flt("slug", store.OpIn, false, "a", "c", "zz"), []string{"a", "c"}},
		{"not in text", flt("slug", store.OpIn, true, "a", "c"), []string{"b"}},
		{"in uuid", flt("id", store.OpIn, false, o.rB.ID, strings.ToUpper(o.rC.ID)), []string{"b", "c"}},
		{"in int", flt("spec_id", store.OpIn, false, "2", "7"), []string{"b"}},
		{"in empty", flt("slug", store.OpIn, false), []string{}},
		{"not in empty", flt("slug", store.OpIn, true), []string{"a", "b", "c"}},
		{"is null", flt("description", store.OpIs, false, "null"), []string{"b"}},
		{"not is null", flt("description", store.OpIs, true, "null"), []string{"a", "c"}},
		{"is null int", flt("spec_id", store.OpIs, false, "null"), []string{"c"}},
		{"is true", flt("is_public", store.OpIs, false, "true"), []string{"b"}},
		{"is false", flt("is_public", store.OpIs, false, "false"), []string{"a", "c"}},
		{"not is true", flt("is_public", store.OpIs, true, "true"), []string{"a", "c"}},
		{"is unknown", flt("is_public", store.OpIs, false, "unknown"), []string{}},
	}
	for _, c := range cases {
		if got := f.slugs(o, []store.Filter{c.f}, nil, store.MaxRows, 0); !slices.Equal(got, c.want) {
			f.t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	// Filters combine with AND.
	got := f.slugs(o, []store.Filter{flt("spec_id", store.OpGte, false, "1"), flt("is_public", store.OpEq, false, "false")}, nil, store.MaxRows, 0)
	if !slices.Equal(got, []string{"a"}) {
		f.t.Errorf("two filters: got %v", got)
	}
	// is null on a jsonb column.
	u := f.user("dave")
	j := f.job(u.ID, 1000, t0)
	ids := f.column(store.Query{Table: "jobs", Columns: []string{"id"}, Limit: 10, Access: asUser(u.ID),
		Filters: []store.Filter{{Column: "result", Op: store.OpIs, Values: []string{"null"}}}}, "id")
	if !slices.Equal(ids, []string{j.Job.ID}) {
		f.t.Errorf("result is null: got %v", ids)
	}
}

// Order with PostgreSQL's NULL placement, several keys, limit and offset.
func testSelectOrderAndPaging(f *fixture) {
	o := f.operatorRows()
	ord := func(col string, desc bool, nulls store.Nulls) store.Order {
		return store.Order{Column: col, Desc: desc, Nulls: nulls}
	}
	cases := []struct {
		name          string
		orders        []store.Order
		limit, offset int
		want          []string
	}{
		{"asc puts nulls last", []store.Order{ord("spec_id", false, store.NullsDefault)}, 10, 0, []string{"a", "b", "c"}},
		{"desc puts nulls first", []store.Order{ord("spec_id", true, store.NullsDefault)}, 10, 0, []string{"c", "b", "a"}},
		{"asc nulls first", []store.Order{ord("spec_id", false, store.NullsFirst)}, 10, 0, []string{"c", "a", "b"}},
		{"desc nulls last", []store.Order{ord("spec_id", true, store.NullsLast)}, 10, 0, []string{"b", "a", "c"}},
		{"text desc", []store.Order{ord("description", true, store.NullsLast)}, 10, 0, []string{"c", "a", "b"}},
		{"bool then text", []store.Order{ord("is_public", true, store.NullsDefault), ord("slug", false, store.NullsDefault)}, 10, 0, []string{"b", "a", "c"}},
		{"timestamp desc", []store.Order{ord("created_at", true, store.NullsDefault)}, 10, 0, []string{"c", "b", "a"}},
		{"limit", []store.Order{ord("slug", false, store.NullsDefault)}, 2, 0, []string{"a", "b"}},
		{"limit and offset", []store.Order{ord("slug", false, store.NullsDefault)}, 1, 1, []string{"b"}},
		{"offset only", []store.Order{ord("slug", true, store.NullsDefault)}, store.MaxRows, 2, []string{"a"}},
		{"limit 0", []store.Order{ord("slug", false, store.NullsDefault)}, 0, 0, []string{}},
		{"offset past the end", []store.Order{ord("slug", false, store.NullsDefault)}, 10, 5, []string{}},
	}
	for _, c := range cases {
		if got := f.slugs(o, nil, c.orders, c.limit, c.offset); !slices.Equal(got, c.want) {
			f.t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// Queries naming what the table lacks, values that do not parse as their
// column's type and malformed queries are refused with a QueryError.
func testSelectRefusals(f *fixture) {
	u := f.user("erin")
	job := f.job(u.ID, 1000, t0)
	rot := func(filters ...store.Filter) store.Query {
		return store.Query{Table: "rotations", Limit: 10, Access: asUser(u.ID), Filters: filters}
	}
	eq := func(col, v string) store.Filter {
		return store.Filter{Column: col, Op: store.OpEq, Values: []string{v}}
	}
	cases := []struct {
		name string
		q    store.Query
		code string // "" when any code will do
	}{
		{"unknown table", store.Query{Table: "users", Limit: 10, Access: anon()}, "42P01"},
		{"table with sql", store.Query{Table: "rotations; DROP TABLE jobs", Limit: 10, Access: anon()}, "42P01"},
		{"internal table", store.Query{Table: "seen_signatures", Limit: 10, Access: anon()}, "42P01"},
		{"unknown column", store.Query{Table: "rotations", Columns: []string{"id", "password"}, Limit: 10, Access: anon()}, "42703"},
		{"column with sql", store.Query{Table: "rotations", Columns: []string{`id" FROM users --`}, Limit: 10, Access: anon()}, "42703"},
		{"column twice", store.Query{Table: "rotations", Columns: []string{"id", "id"}, Limit: 10, Access: anon()}, ""},
		{"unknown filter column", rot(eq("token_hash", "x")), "42703"},
		{"unknown order column", store.Query{Table: "rotations", Orders: []store.Order{{Column: "nope"}}, Limit: 10, Access: anon()}, "42703"},
		{"bad uuid", rot(eq("id", "nope")), "22P02"},
		{"bad uuid in list", rot(store.Filter{Column: "id", Op: store.OpIn, Values: []string{uuid.NewString(), "nope"}}), "22P02"},
		{"fraction for int", rot(eq("spec_id", "1.5")), "22P02"},
		{"word for int", rot(eq("spec_id", "abc")), "22P02"},
		{"int out of range", rot(eq("spec_id", "99999999999")), "22003"},
		{"bad bool", rot(eq("is_public", "maybe")), "22P02"},
		{"bad timestamp", rot(eq("created_at", "last tuesday")), "22007"},
		{"is true on text", rot(store.Filter{Column: "slug", Op: store.OpIs, Values: []string{"true"}}), "42804"},
		{"is bad keyword", rot(store.Filter{Column: "slug", Op: store.OpIs, Values: []string{"maybe"}}), ""},
		{"compare jsonb", store.Query{Table: "jobs_configs", Filters: []store.Filter{eq("config", "{}")}, Limit: 10, Access: anon()}, ""},
		{"unknown operator", rot(store.Filter{Column: "slug", Op: "like", Values: []string{"a%"}}), ""},
		{"eq without value", rot(store.Filter{Column: "slug", Op: store.OpEq}), ""},
		{"limit above max", store.Query{Table: "rotations", Limit: store.MaxRows + 1, Access: anon()}, ""},
		{"negative offset", store.Query{Table: "rotations", Limit: 1, Offset: -1, Access: anon()}, ""},
		{"bad nulls", store.Query{Table: "rotations", Orders: []store.Order{{Column: "slug", Nulls: 7}}, Limit: 1, Access: anon()}, ""},
	}
	for _, c := range cases {
		_, err := f.s.Select(f.ctx, c.q)
		var qe *store.QueryError
		if !errors.As(err, &qe) {
			f.t.Errorf("%s: got %v, want a QueryError", c.name, err)
			continue
		}
		if c.code != "" && qe.Code != c.code {
			f.t.Errorf("%s: code %s (%s), want %s", c.name, qe.Code, qe.Message, c.code)
		}
		if qe.Message == "" {
			f.t.Errorf("%s: no message", c.name)
		}
	}
	// A reader the store cannot place is an error, not a client mistake.
	for _, a := range []store.Access{{}, {Role: "admin"}, {Role: store.AccessNode, NodeID: "x"}, {Role: store.AccessUser}} {
		_, err := f.s.Select(f.ctx, store.Query{Table: "jobs_configs", Limit: 1, Access: a})
		var qe *store.QueryError
		if err == nil || errors.As(err, &qe) {
			f.t.Errorf("access %+v: got %v, want a plain error", a, err)
		}
	}
	// The tables were not harmed.
	if got := f.column(store.Query{Table: "jobs_configs", Columns: []string{"hash"}, Limit: 10, Access: asUser(u.ID)}, "hash"); !slices.Equal(got, []string{job.Job.ConfigHash}) {
		f.t.Errorf("jobs_configs after refusals: %v, want %s", got, job.Job.ConfigHash)
	}
}

// The JSON of every table is PostgreSQL's: the same text for every value
// but jsonb (compared as JSON), columns in the requested order.
func testSelectShapes(f *fixture) {
	t := f.t
	u := f.user("frank")
	t1 := t0.Add(90*time.Second + 250*time.Millisecond)
	t2 := t1.Add(time.Minute + 5*time.Millisecond)
	n := f.online(u.ID, 3, t1)
	r := f.rotation(store.Rotation{UserID: u.ID, Slug: "bm-st", Name: "BM \"single\" target", Script: "cast kill_command\n",
		Description: "ünïcode ✓", SpecID: 253, CreatedAt: t0, UpdatedAt: t1})
	j := f.jobUsing(u.ID, r.ID, 1000, t0)
	c := j.Chunks[0].ID
	f.assign(t1, n.ID, c)
	res := result(1000, 123.5)
	if _, err := f.completeOne(store.Completion{ChunkID: c, NodeID: n.ID, Result: res, Now: t2}, sumAggregate); err != nil {
		t.Fatal(err)
	}
	other := f.job(u.ID, 1000, t0)
	f.assign(t1, n.ID, other.Chunks[0].ID)
	if ok, err := f.s.RequeueChunk(f.ctx, store.Requeue{ChunkID: other.Chunks[0].ID, NodeID: n.ID, CountAttempt: true, Error: "oops"}); err != nil || !ok {
		t.Fatalf("requeue %v %v", ok, err)
	}
	str := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	jobResult, _ := json.Marshal(sumAggregate([]protocol.ChunkResult{res}))
	chunkResult, _ := json.Marshal(res)
	sum := hashOf(r.Script)
	cases := []struct {
		table  string
		access store.Access
		filter string // id or hash
		cols   []string
		want   string
	}{
		{"rotations", asUser(u.ID), r.ID,
			[]string{"id", "user_id", "slug", "name", "script", "description", "is_public", "spec_id", "current_version", "checksum", "created_at", "updated_at"},
			`{"id":` + str(r.ID) + `,"user_id":` + str(u.ID) + `,"slug":"bm-st","name":"BM \"single\" target","script":"cast kill_command\n",` +
				`"description":"ünïcode ✓","is_public":false,"spec_id":253,"current_version":1,"checksum":"` + sum + `",` +
				`"created_at":"2027-01-15T08:00:00+00:00","updated_at":"2027-01-15T08:01:30.25+00:00"}`},
		{"nodes", asNode(n.ID), n.ID,
			[]string{"id", "user_id", "name", "max_parallel", "status", "last_seen_at", "version", "total_cores", "platform", "created_at", "public_key", "claim_code"},
			`{"id":` + str(n.ID) + `,"user_id":` + str(u.ID) + `,"name":"My Node","max_parallel":3,"status":"online",` +
				`"last_seen_at":"2027-01-15T08:01:30.25+00:00","version":"1.0.0","total_cores":8,"platform":"linux-x86_64",` +
				`"created_at":"2027-01-15T08:01:30.25+00:00","public_key":` + str(n.PublicKey) + `,"claim_code":null}`},
		{"jobs", asUser(u.ID), j.Job.ID,
			[]string{"id", "user_id", "config_hash", "total_iterations", "completed_iterations", "status", "result", "created_at", "completed_at", "access_type", "discord_server_id", "error"},
			`{"id":` + str(j.Job.ID) + `,"user_id":` + str(u.ID) + `,"config_hash":` + str(j.Job.ConfigHash) + `,"total_iterations":1000,` +
				`"completed_iterations":1000,"status":"completed","result":` + string(jobResult) + `,"created_at":"2027-01-15T08:00:00+00:00",` +
				`"completed_at":"2027-01-15T08:02:30.255+00:00","access_type":"private","discord_server_id":null,"error":null}`},
		{"jobs_chunks", asUser(u.ID), c,
			[]string{"id", "job_id", "node_id", "config_hash", "iterations", "seed_offset", "status", "result", "claimed_at", "completed_at", "created_at", "attempts", "last_error", "previous_node_ids"},
			`{"id":` + str(c) + `,"job_id":` + str(j.Job.ID) + `,"node_id":` + str(n.ID) + `,"config_hash":` + str(j.Job.ConfigHash) + `,` +
				`"iterations":1000,"seed_offset":0,"status":"completed","result":` + string(chunkResult) + `,"claimed_at":"2027-01-15T08:01:30.25+00:00",` +
				`"completed_at":"2027-01-15T08:02:30.255+00:00","created_at":"2027-01-15T08:00:00+00:00","attempts":0,"last_error":null,"previous_node_ids":[]}`},
		{"jobs_chunks", asUser(u.ID), other.Chunks[0].ID, []string{"status", "node_id", "attempts", "last_error", "previous_node_ids", "claimed_at"},
			`{"status":"pending","node_id":null,"attempts":1,"last_error":"oops","previous_node_ids":[` + str(n.ID) + `],"claimed_at":null}`},
		{"jobs_configs", asUser(u.ID), j.Job.ConfigHash, []string{"config", "hash", "created_at", "last_used_at"},
			`{"config":` + string(j.Config) + `,"hash":` + str(j.Job.ConfigHash) + `,"created_at":"2027-01-15T08:00:00+00:00","last_used_at":"2027-01-15T08:00:00+00:00"}`},
	}
	for _, cs := range cases {
		key := "id"
		if cs.table == "jobs_configs" {
			key = "hash"
		}
		q := store.Query{Table: cs.table, Columns: cs.cols, Limit: 10, Access: cs.access,
			Filters: []store.Filter{{Column: key, Op: store.OpEq, Values: []string{cs.filter}}}}
		rows := f.selectRows(q)
		if len(rows) != 1 {
			t.Errorf("%s %s: %d rows", cs.table, cs.filter, len(rows))
			continue
		}
		raw, err := f.s.Select(f.ctx, q)
		f.check(err)
		var one []json.RawMessage
		f.check(json.Unmarshal(raw, &one))
		var want map[string]any
		d := json.NewDecoder(strings.NewReader(cs.want))
		d.UseNumber()
		f.check(d.Decode(&want))
		if !reflect.DeepEqual(rows[0], want) {
			t.Errorf("%s row\n got %s\nwant %s", cs.table, one[0], cs.want)
		}
		// Apart from jsonb columns the text itself is PostgreSQL's.
		for col, v := range want {
			if col == "result" || col == "config" {
				continue
			}
			enc, _ := json.Marshal(v)
			if s, ok := v.(string); ok && strings.HasSuffix(col, "_at") && !bytes.Contains(one[0], []byte(`"`+col+`":"`+s+`"`)) {
				t.Errorf("%s.%s: %s lacks %s", cs.table, col, one[0], enc)
			}
		}
	}
	// Every column, in table order, when none are named.
	rows := f.selectRows(store.Query{Table: "rotations", Limit: 1, Access: asUser(u.ID),
		Filters: []store.Filter{{Column: "id", Op: store.OpEq, Values: []string{r.ID}}}})
	raw, err := f.s.Select(f.ctx, store.Query{Table: "rotations", Limit: 1, Access: asUser(u.ID),
		Filters: []store.Filter{{Column: "id", Op: store.OpEq, Values: []string{r.ID}}}})
	f.check(err)
	var one []json.RawMessage
	f.check(json.Unmarshal(raw, &one))
	if len(rows) != 1 || !slices.Equal(objectKeys(f, one[0]), cases[0].cols) {
		t.Errorf("all columns: %s", raw)
	}
	// No row is an empty array, not null.
	raw, err = f.s.Select(f.ctx, store.Query{Table: "jobs", Limit: 10, Access: anon()})
	if err != nil || string(raw) != "[]" {
		t.Errorf("empty answer %s %v", raw, err)
	}
}
