package gateway

import (
	"net/url"
	"testing"

	"wowlab/sentinel/store"
)

// FuzzDecodeFrame: any frame decodes or fails cleanly, and a decoded
// message re-encodes to a frame that decodes to the same message.
func FuzzDecodeFrame(f *testing.F) {
	f.Add(`[null,"1","phoenix","heartbeat",{}]`, true)
	f.Add(`{"topic":"realtime:x","event":"phx_join","payload":{"config":{}},"ref":"1","join_ref":"1"}`, false)
	f.Add(`[1,2,3]`, true)
	f.Add(`{"topic":1}`, false)
	f.Fuzz(func(t *testing.T, data string, v2 bool) {
		c := codec{vsn1}
		if v2 {
			c = codec{vsn2}
		}
		m, err := c.decode([]byte(data))
		if err != nil {
			return
		}
		again, err := c.decode(c.encode(m))
		if err != nil {
			t.Fatalf("re-encoded frame does not decode: %v", err)
		}
		if again.Topic != m.Topic || again.Event != m.Event || string(again.Ref) != string(m.Ref) || string(again.JoinRef) != string(m.JoinRef) {
			t.Fatalf("round trip changed %+v into %+v", m, again)
		}
	})
}

// FuzzParseSelect: any query string parses or is refused with a 400, and
// a parsed query names only whitelisted columns, with filters of a known
// operator and a limit the store accepts.
func FuzzParseSelect(f *testing.F) {
	f.Add("select=id,script&id=eq.abc&order=script.desc&limit=1")
	f.Add(`id=in.("a,b",c)&script=not.eq.x'--`)
	f.Add("description=is.null&offset=3")
	s := newSchema()
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		rot := s["rotations"]
		sq, err := parseSelect(rot, q)
		if err != nil {
			if qe, ok := err.(*queryError); !ok || qe.status != 400 {
				t.Fatalf("refusal %v is not a 400 queryError", err)
			}
			return
		}
		known := func(name string) {
			if _, ok := rot.column(name); !ok {
				t.Fatalf("column %q is not in the whitelist", name)
			}
		}
		for _, c := range sq.query.Columns {
			known(c)
		}
		for _, o := range sq.query.Orders {
			known(o.Column)
		}
		for _, fl := range sq.query.Filters {
			known(fl.Column)
			if store.Comparison(fl.Op) == "" && fl.Op != store.OpIn && fl.Op != store.OpIs {
				t.Fatalf("filter with operator %q", fl.Op)
			}
		}
		if sq.query.Table != "rotations" || sq.query.Limit < 0 || sq.query.Limit > store.MaxRows || sq.query.Offset < 0 {
			t.Fatalf("query %+v", sq.query)
		}
	})
}
