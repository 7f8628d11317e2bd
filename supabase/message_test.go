package supabase

import (
	"encoding/json"
	"testing"
)

func TestSerializerEncode(t *testing.T) {
	m := Message{JoinRef: "1", Ref: "2", Topic: "realtime:chunks:n1", Event: "phx_join", Payload: json.RawMessage(`{"a":1}`)}
	for _, tc := range []struct {
		s    Serializer
		m    Message
		want string
	}{
		{SerializerV1, m, `{"topic":"realtime:chunks:n1","event":"phx_join","payload":{"a":1},"ref":"2","join_ref":"1"}`},
		{SerializerV2, m, `["1","2","realtime:chunks:n1","phx_join",{"a":1}]`},
		{SerializerV1, Message{Ref: "3", Topic: "phoenix", Event: "heartbeat"}, `{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"3","join_ref":null}`},
		{SerializerV2, Message{Ref: "3", Topic: "phoenix", Event: "heartbeat"}, `[null,"3","phoenix","heartbeat",{}]`},
	} {
		got, err := tc.s.Encode(tc.m)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("%s: got %s\nwant %s", tc.s, got, tc.want)
		}
		back, err := tc.s.Decode(got)
		if err != nil {
			t.Fatal(err)
		}
		if back.JoinRef != tc.m.JoinRef || back.Ref != tc.m.Ref || back.Topic != tc.m.Topic || back.Event != tc.m.Event {
			t.Errorf("%s: round trip %+v, want %+v", tc.s, back, tc.m)
		}
	}
	for _, bad := range []Message{{Event: "x"}, {Topic: "x"}, {Topic: "x", Event: "y", Payload: json.RawMessage(`{`)}} {
		if _, err := SerializerV2.Encode(bad); err == nil {
			t.Errorf("Encode(%+v): no error", bad)
		}
	}
	if _, err := Serializer("3.0.0").Encode(m); err == nil {
		t.Error("unknown serializer encoded")
	}
}

func TestSerializerDecode(t *testing.T) {
	for _, tc := range []struct {
		s    Serializer
		in   string
		want *Message // nil: must fail
	}{
		{SerializerV1, `{"topic":"t","event":"e","payload":{"x":[1]},"ref":null}`, &Message{Topic: "t", Event: "e", Payload: json.RawMessage(`{"x":[1]}`)}},
		{SerializerV1, `{"topic":"t","event":"e","payload":null,"ref":7,"join_ref":"3"}`, &Message{JoinRef: "3", Ref: "7", Topic: "t", Event: "e", Payload: json.RawMessage(`{}`)}},
		{SerializerV2, `[null,null,"t","e",{}]`, &Message{Topic: "t", Event: "e", Payload: json.RawMessage(`{}`)}},
		{SerializerV2, `["4","5","t","e",{"k":"v"}]`, &Message{JoinRef: "4", Ref: "5", Topic: "t", Event: "e", Payload: json.RawMessage(`{"k":"v"}`)}},
		{SerializerV1, `["4","5","t","e",{}]`, nil},
		{SerializerV2, `{"topic":"t","event":"e","payload":{}}`, nil},
		{SerializerV2, `["4","5","t","e"]`, nil},
		{SerializerV2, `["4","5","t","e",{},1]`, nil},
		{SerializerV2, `["4","5","","e",{}]`, nil},
		{SerializerV2, `["4","5","t",3,{}]`, nil},
		{SerializerV2, `["4","5","t","e",[1]]`, nil},
		{SerializerV2, `["4","5","t","e","str"]`, nil},
		{SerializerV2, `[{},"5","t","e",{}]`, nil},
		{SerializerV2, `[true,"5","t","e",{}]`, nil},
		{SerializerV1, `{"topic":"t","payload":{}}`, nil},
		{SerializerV1, `not json`, nil},
		{SerializerV1, ``, nil},
	} {
		got, err := tc.s.Decode([]byte(tc.in))
		if tc.want == nil {
			if err == nil {
				t.Errorf("%s Decode(%s) = %+v, want error", tc.s, tc.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s Decode(%s): %v", tc.s, tc.in, err)
			continue
		}
		if got.JoinRef != tc.want.JoinRef || got.Ref != tc.want.Ref || got.Topic != tc.want.Topic || got.Event != tc.want.Event || string(got.Payload) != string(tc.want.Payload) {
			t.Errorf("%s Decode(%s) = %+v, want %+v", tc.s, tc.in, got, *tc.want)
		}
	}
}

// FuzzDecode checks that no frame crashes Decode and that what it accepts
// encodes and decodes again to the same message.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`["1","2","realtime:x","postgres_changes",{"ids":[1],"data":{}}]`), true)
	f.Add([]byte(`{"topic":"phoenix","event":"phx_reply","payload":{"status":"ok"},"ref":"1"}`), false)
	f.Add([]byte(`[null,null,"t","e",null]`), true)
	f.Fuzz(func(t *testing.T, data []byte, v2 bool) {
		s := SerializerV1
		if v2 {
			s = SerializerV2
		}
		m, err := s.Decode(data)
		if err != nil {
			return
		}
		enc, err := s.Encode(m)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", m, err)
		}
		m2, err := s.Decode(enc)
		if err != nil {
			t.Fatalf("re-decode %s: %v", enc, err)
		}
		if m2.JoinRef != m.JoinRef || m2.Ref != m.Ref || m2.Topic != m.Topic || m2.Event != m.Event {
			t.Fatalf("round trip %+v != %+v", m2, m)
		}
	})
}
