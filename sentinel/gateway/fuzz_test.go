package gateway

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"wowlab/sentinel"
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

// FuzzDecodeRotation: any body of a rotation write decodes to fields or is
// refused with a 4xx queryError; a decoded body names only writable
// fields, and a user_id only as the caller's own.
func FuzzDecodeRotation(f *testing.F) {
	f.Add(`{"name":"st","script":"{\"actions\":[]}","is_public":true}`)
	f.Add(`[{"name":"a"}]`)
	f.Add(`{"name":"a","user_id":"u1"}`)
	f.Add(`{"name":"a","user_id":"u2"}`)
	f.Add(`{"checksum":"00"}`)
	f.Add(`{"name":`)
	f.Add(`{} {}`)
	f.Fuzz(func(t *testing.T, body string) {
		fields, err := decodeRotation([]byte(body), sentinel.Caller{Role: sentinel.RoleUser, UserID: "u1"})
		if err != nil {
			var qe *queryError
			if !errors.As(err, &qe) || qe.status < 400 || qe.status > 499 {
				t.Fatalf("refusal %v is not a 4xx queryError", err)
			}
			return
		}
		if _, err := json.Marshal(fields); err != nil {
			t.Fatalf("decoded fields do not encode: %v", err)
		}
		if strings.Contains(body, `"u2"`) && strings.Contains(body, `"user_id"`) && !strings.Contains(body, `"u1"`) {
			t.Fatalf("a body naming another user's id was accepted: %s", body)
		}
	})
}
