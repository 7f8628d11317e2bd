package supabase

import (
	"encoding/json"
	"time"
)

// JoinPayload is the payload of phx_join on a realtime:<name> topic.
type JoinPayload struct {
	Config      JoinConfig `json:"config"`
	AccessToken string     `json:"access_token,omitempty"`
}

// JoinConfig is the channel configuration sent on join.
type JoinConfig struct {
	Broadcast       BroadcastConfig  `json:"broadcast"`
	Presence        PresenceConfig   `json:"presence"`
	PostgresChanges []PostgresChange `json:"postgres_changes"`
	Private         bool             `json:"private"`
}

// BroadcastConfig configures broadcast on a channel.
type BroadcastConfig struct {
	// Ack asks the server to acknowledge each broadcast.
	Ack bool `json:"ack"`
	// Self asks for the client's own broadcasts back.
	Self bool `json:"self"`
}

// PresenceConfig configures presence on a channel.
type PresenceConfig struct {
	// Key is the presence key this client tracks under (the node id).
	Key string `json:"key"`
	// Enabled turns presence on for the channel.
	Enabled bool `json:"enabled"`
}

// PostgresChange is one postgres_changes binding. In a join it has no ID;
// in the join reply the server echoes each binding, in order, with the ID
// that postgres_changes events will carry.
type PostgresChange struct {
	ID     int64  `json:"id,omitempty"`
	Event  string `json:"event"` // "*", "INSERT", "UPDATE" or "DELETE"
	Schema string `json:"schema"`
	Table  string `json:"table,omitempty"`
	Filter string `json:"filter,omitempty"` // e.g. "node_id=eq.<id>"
}

// Reply is the payload of phx_reply: {"status":"ok"|"error","response":{...}}.
type Reply struct {
	Status   string          `json:"status"`
	Response json.RawMessage `json:"response"`
}

// JoinResponse is the response of a successful join reply.
type JoinResponse struct {
	PostgresChanges []PostgresChange `json:"postgres_changes"`
}

// ErrorResponse is the response of a refused push: {"reason":"..."}.
type ErrorResponse struct {
	Reason string `json:"reason"`
}

// ChangePayload is the payload of a postgres_changes event.
type ChangePayload struct {
	IDs  []int64 `json:"ids"`
	Data Change  `json:"data"`
}

// Change types of a Change.
const (
	ChangeInsert = "INSERT"
	ChangeUpdate = "UPDATE"
	ChangeDelete = "DELETE"
)

// Change is one row change. Record (the new row) and OldRecord (the old
// row, at least its primary key) are raw JSON objects with snake_case
// columns, for the caller to decode into its own row type.
type Change struct {
	Schema          string          `json:"schema"`
	Table           string          `json:"table"`
	CommitTimestamp string          `json:"commit_timestamp"`
	Type            string          `json:"type"`
	Columns         []Column        `json:"columns"`
	Record          json.RawMessage `json:"record"`
	OldRecord       json.RawMessage `json:"old_record"`
	Errors          json.RawMessage `json:"errors"`
}

// Committed parses CommitTimestamp (RFC 3339).
func (c Change) Committed() (time.Time, error) {
	return time.Parse(time.RFC3339Nano, c.CommitTimestamp)
}

// Column names one column of a Change and its Postgres type.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// SystemMessage is the payload of a system event, for example
// {"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"<name>"}.
type SystemMessage struct {
	Extension string `json:"extension"`
	Status    string `json:"status"`
	Message   string `json:"message"`
	Channel   string `json:"channel"`
}

// PresencePush is the payload of a client presence event:
// {"type":"presence","event":"track"|"untrack","payload":{...}}.
type PresencePush struct {
	Type    string          `json:"type"`
	Event   string          `json:"event"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Presence is what one presence key has: one meta per tracking
// connection, each a JSON object holding "phx_ref" and the tracked fields.
type Presence struct {
	Metas []json.RawMessage `json:"metas"`
}

// PresenceState is the payload of presence_state: every key present.
type PresenceState map[string]Presence

// PresenceDiff is the payload of presence_diff.
type PresenceDiff struct {
	Joins  PresenceState `json:"joins"`
	Leaves PresenceState `json:"leaves"`
}

// AccessTokenPayload is the payload of an access_token event.
type AccessTokenPayload struct {
	AccessToken string `json:"access_token"`
}
