package gateway

import (
	"net/url"
	"strings"
	"testing"

	"wowlab/sentinel"
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
// the SQL never contains the raw values.
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
		sq, err := parseSelect(s["rotations"], q)
		if err != nil {
			if qe, ok := err.(*queryError); !ok || qe.status != 400 {
				t.Fatalf("refusal %v is not a 400 queryError", err)
			}
			return
		}
		sqlText, args := sq.sql(sentinel.Caller{Role: sentinel.RoleNode, NodeID: "n"})
		for _, fl := range sq.filters {
			for _, v := range fl.values {
				if strings.ContainsAny(v, `'";`) && strings.Contains(sqlText, v) {
					t.Fatalf("value %q is in the SQL text %s", v, sqlText)
				}
			}
		}
		if strings.Count(sqlText, "$") != len(args) {
			t.Fatalf("%d placeholders for %d args: %s", strings.Count(sqlText, "$"), len(args), sqlText)
		}
	})
}
