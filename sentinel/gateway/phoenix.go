package gateway

// Phoenix channel frames in the two serializers of PROTOCOL section 6:
// vsn 1.0.0 JSON objects {"topic","event","payload","ref","join_ref"} and
// vsn 2.0.0 JSON arrays [join_ref, ref, topic, event, payload].

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Serializer versions.
const (
	vsn1 = "1.0.0"
	vsn2 = "2.0.0"
)

var jsonNull = json.RawMessage("null")

// message is one Phoenix channel message. JoinRef and Ref are raw JSON (a
// string, a number or null) and are echoed back as they came.
type message struct {
	JoinRef json.RawMessage
	Ref     json.RawMessage
	Topic   string
	Event   string
	Payload json.RawMessage
}

// frameError is a frame that could not be decoded. When Topic is set the
// frame was readable enough to answer its sender; otherwise the socket is
// closed.
type frameError struct {
	msg     message // what could be read
	problem string
}

func (e *frameError) Error() string { return "invalid frame: " + e.problem }

// codec encodes and decodes frames of one serializer version.
type codec struct{ vsn string }

func newCodec(vsn string) (codec, error) {
	switch vsn {
	case "", vsn1:
		return codec{vsn1}, nil
	case vsn2:
		return codec{vsn2}, nil
	}
	return codec{}, fmt.Errorf("unsupported serializer version %q: use %s or %s", vsn, vsn1, vsn2)
}

// decode parses one text frame.
func (c codec) decode(data []byte) (message, error) {
	var m message
	var joinRef, ref, topic, event, payload json.RawMessage
	if c.vsn == vsn2 {
		var parts []json.RawMessage
		if err := json.Unmarshal(data, &parts); err != nil {
			return m, &frameError{problem: "not a JSON array: " + err.Error()}
		}
		if len(parts) != 5 {
			return m, &frameError{problem: fmt.Sprintf("expected [join_ref, ref, topic, event, payload], got %d elements", len(parts))}
		}
		joinRef, ref, topic, event, payload = parts[0], parts[1], parts[2], parts[3], parts[4]
	} else {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(data, &obj); err != nil {
			return m, &frameError{problem: "not a JSON object: " + err.Error()}
		}
		joinRef, ref, topic, event, payload = obj["join_ref"], obj["ref"], obj["topic"], obj["event"], obj["payload"]
	}
	// Read what identifies the sender's push first, so a later problem can
	// be answered.
	if err := json.Unmarshal(topic, &m.Topic); err != nil || m.Topic == "" {
		return message{}, &frameError{problem: "topic must be a non-empty string"}
	}
	for _, r := range []struct {
		raw json.RawMessage
		dst *json.RawMessage
	}{{joinRef, &m.JoinRef}, {ref, &m.Ref}} {
		if !validRef(r.raw) {
			return message{}, &frameError{problem: "join_ref and ref must be strings, numbers or null"}
		}
		*r.dst = normRef(r.raw)
	}
	if err := json.Unmarshal(event, &m.Event); err != nil || m.Event == "" {
		return m, &frameError{msg: m, problem: "event must be a non-empty string"}
	}
	p := bytes.TrimSpace(payload)
	if len(p) == 0 || p[0] != '{' || !json.Valid(p) {
		return m, &frameError{msg: m, problem: "payload must be a JSON object"}
	}
	m.Payload = p
	return m, nil
}

func validRef(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return true
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false
	}
	switch v.(type) {
	case string, float64:
		return true
	}
	return false
}

func normRef(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return jsonNull
	}
	return raw
}

// encode writes one frame.
func (c codec) encode(m message) []byte {
	topic, _ := json.Marshal(m.Topic)
	event, _ := json.Marshal(m.Event)
	jr, ref := normRef(m.JoinRef), normRef(m.Ref)
	var b bytes.Buffer
	b.Grow(len(m.Payload) + len(topic) + len(event) + len(jr) + len(ref) + 64)
	if c.vsn == vsn2 {
		b.WriteByte('[')
		b.Write(jr)
		b.WriteByte(',')
		b.Write(ref)
		b.WriteByte(',')
		b.Write(topic)
		b.WriteByte(',')
		b.Write(event)
		b.WriteByte(',')
		b.Write(m.Payload)
		b.WriteByte(']')
		return b.Bytes()
	}
	b.WriteString(`{"topic":`)
	b.Write(topic)
	b.WriteString(`,"event":`)
	b.Write(event)
	b.WriteString(`,"payload":`)
	b.Write(m.Payload)
	b.WriteString(`,"ref":`)
	b.Write(ref)
	b.WriteString(`,"join_ref":`)
	b.Write(jr)
	b.WriteByte('}')
	return b.Bytes()
}

// Phoenix and Supabase event names.
const (
	evJoin        = "phx_join"
	evLeave       = "phx_leave"
	evReply       = "phx_reply"
	evClose       = "phx_close"
	evError       = "phx_error"
	evHeartbeat   = "heartbeat"
	evAccessToken = "access_token"
	evPresence    = "presence"
	evState       = "presence_state"
	evDiff        = "presence_diff"
	evSystem      = "system"
	evChanges     = "postgres_changes"
	evBroadcast   = "broadcast"
	topicPhoenix  = "phoenix"
	topicPrefix   = "realtime:"
)

// replyPayload builds {"status":..,"response":..}.
func replyPayload(status string, response any) json.RawMessage {
	b, err := json.Marshal(struct {
		Status   string `json:"status"`
		Response any    `json:"response"`
	}{status, response})
	if err != nil {
		return json.RawMessage(`{"status":"error","response":{"reason":"internal error"}}`)
	}
	return b
}

func errorReply(reason string) json.RawMessage {
	return replyPayload("error", map[string]string{"reason": reason})
}
