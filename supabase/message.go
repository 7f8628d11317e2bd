package supabase

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Serializer is a Phoenix channels wire format, named by the vsn query
// parameter of the socket URL.
type Serializer string

const (
	// SerializerV1 frames a message as a JSON object
	// {"topic","event","payload","ref","join_ref"}.
	SerializerV1 Serializer = "1.0.0"
	// SerializerV2 frames a message as a JSON array
	// [join_ref, ref, topic, event, payload] (the JS client's default).
	SerializerV2 Serializer = "2.0.0"
)

// Message is one Phoenix channels message. Empty JoinRef and Ref are sent
// as null.
type Message struct {
	JoinRef string
	Ref     string
	Topic   string
	Event   string
	// Payload is a JSON object; nil is sent as {}.
	Payload json.RawMessage
}

// Valid reports whether s is a serializer this package speaks.
func (s Serializer) Valid() bool { return s == SerializerV1 || s == SerializerV2 }

// Encode renders m as one text frame in format s.
func (s Serializer) Encode(m Message) ([]byte, error) {
	if m.Topic == "" || m.Event == "" {
		return nil, errors.New("supabase: message needs a topic and an event")
	}
	payload := m.Payload
	if len(payload) == 0 {
		payload = json.RawMessage("{}")
	} else if !json.Valid(payload) {
		return nil, fmt.Errorf("supabase: message %s/%s: payload is not valid JSON", m.Topic, m.Event)
	}
	switch s {
	case SerializerV1:
		return json.Marshal(struct {
			Topic   string          `json:"topic"`
			Event   string          `json:"event"`
			Payload json.RawMessage `json:"payload"`
			Ref     *string         `json:"ref"`
			JoinRef *string         `json:"join_ref"`
		}{m.Topic, m.Event, payload, nullable(m.Ref), nullable(m.JoinRef)})
	case SerializerV2:
		return json.Marshal([]any{nullable(m.JoinRef), nullable(m.Ref), m.Topic, m.Event, payload})
	default:
		return nil, fmt.Errorf("supabase: unknown serializer %q", string(s))
	}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Decode parses one text frame in format s. It rejects frames that are not
// of the format's shape, lack a topic or event, or carry a payload that is
// not a JSON object (null becomes {}).
func (s Serializer) Decode(data []byte) (Message, error) {
	var m Message
	var joinRef, ref, topic, event, payload json.RawMessage
	switch s {
	case SerializerV1:
		var obj struct {
			Topic   json.RawMessage `json:"topic"`
			Event   json.RawMessage `json:"event"`
			Payload json.RawMessage `json:"payload"`
			Ref     json.RawMessage `json:"ref"`
			JoinRef json.RawMessage `json:"join_ref"`
		}
		if err := json.Unmarshal(data, &obj); err != nil {
			return m, fmt.Errorf("supabase: decode v1 frame: %w", err)
		}
		joinRef, ref, topic, event, payload = obj.JoinRef, obj.Ref, obj.Topic, obj.Event, obj.Payload
	case SerializerV2:
		var arr []json.RawMessage
		if err := json.Unmarshal(data, &arr); err != nil {
			return m, fmt.Errorf("supabase: decode v2 frame: %w", err)
		}
		if len(arr) != 5 {
			return m, fmt.Errorf("supabase: decode v2 frame: %d elements, want 5", len(arr))
		}
		joinRef, ref, topic, event, payload = arr[0], arr[1], arr[2], arr[3], arr[4]
	default:
		return m, fmt.Errorf("supabase: unknown serializer %q", string(s))
	}
	var err error
	if m.JoinRef, err = decodeRef(joinRef); err != nil {
		return Message{}, fmt.Errorf("supabase: decode frame: join_ref: %w", err)
	}
	if m.Ref, err = decodeRef(ref); err != nil {
		return Message{}, fmt.Errorf("supabase: decode frame: ref: %w", err)
	}
	if err := json.Unmarshal(topic, &m.Topic); err != nil || m.Topic == "" {
		return Message{}, errors.New("supabase: decode frame: topic must be a non-empty string")
	}
	if err := json.Unmarshal(event, &m.Event); err != nil || m.Event == "" {
		return Message{}, errors.New("supabase: decode frame: event must be a non-empty string")
	}
	payload = bytes.TrimSpace(payload)
	switch {
	case len(payload) == 0 || string(payload) == "null":
		m.Payload = json.RawMessage("{}")
	case payload[0] == '{':
		m.Payload = append(json.RawMessage(nil), payload...)
	default:
		return Message{}, errors.New("supabase: decode frame: payload must be a JSON object")
	}
	return m, nil
}

// decodeRef accepts a ref as a string, a number or null (Phoenix sends
// strings; some servers send numbers).
func decodeRef(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	default:
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", errors.New("must be a string, a number or null")
		}
		if _, err := strconv.ParseFloat(n.String(), 64); err != nil {
			return "", errors.New("must be a string, a number or null")
		}
		return n.String(), nil
	}
}
