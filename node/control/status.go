package control

import (
	"errors"
	"strings"
	"time"

	"wowlab/internal/logging"
	"wowlab/node"
	"wowlab/node/policy"
)

// Status is the answer of GET /api/v1/status.
type Status struct {
	State          string          `json:"state"`                    // the lifecycle phase: verifying, registering, claiming, running, unavailable, ...
	Reason         policy.Rule     `json:"reason,omitempty"`         // why the node is paused
	ReasonText     string          `json:"reasonText,omitempty"`     // the same in words
	Error          string          `json:"error,omitempty"`          // why the backend is unavailable; when finished, why an unlink did not unlink
	Unlinked       bool            `json:"unlinked,omitempty"`       // finished after an unlink: the identity is forgotten
	RetryInSeconds float64         `json:"retryInSeconds,omitempty"` // until the next attempt, while unavailable
	NodeID         string          `json:"nodeId,omitempty"`
	Name           string          `json:"name,omitempty"`
	ClaimCode      string          `json:"claimCode,omitempty"` // while waiting to be claimed
	ClaimURL       string          `json:"claimUrl,omitempty"`  // the sentinel's claim page for the code, when it has one
	Version        string          `json:"version"`
	Hostname       string          `json:"hostname"`
	Platform       string          `json:"platform"`
	Connection     string          `json:"connection"` // the realtime link
	Stats          node.Stats      `json:"stats"`
	Chunks         []Chunk         `json:"chunks"`
	Policy         policy.Decision `json:"policy"`
	Update         *UpdateStatus   `json:"update,omitempty"` // absent: the node does not update itself
	Time           time.Time       `json:"time"`
}

// Chunk is a chunk the node holds.
type Chunk struct {
	ID         string    `json:"id"`
	Iterations int       `json:"iterations"`
	SeedOffset int       `json:"seedOffset"`
	Done       int       `json:"done"`     // iterations simulated so far
	Progress   float64   `json:"progress"` // Done / Iterations, 0 to 1
	Running    bool      `json:"running"`  // false while queued
	Started    time.Time `json:"started,omitzero"`
}

func statusOf(n Node, version string, now time.Time) Status {
	st, h, pol := n.State(), n.Host(), n.Policy()
	s := Status{
		State: st.Phase.String(), NodeID: st.NodeID, Name: st.Name, ClaimCode: st.ClaimCode, ClaimURL: st.ClaimURL, Error: st.Err, Unlinked: st.Unlinked,
		RetryInSeconds: st.RetryIn.Seconds(), Version: version, Hostname: h.Hostname, Platform: h.Platform,
		Connection: n.Connection().String(), Stats: n.Stats(), Chunks: []Chunk{}, Policy: pol.Decision, Time: now,
	}
	if d := pol.Decision; d.Paused() {
		s.Reason = d.Rule
		if ef, ok := d.Effect(d.Rule); ok {
			s.ReasonText = ef.Detail
		}
	}
	for _, c := range n.Chunks() {
		ch := Chunk{ID: c.Chunk.ID, Iterations: c.Chunk.Iterations, SeedOffset: c.Chunk.SeedOffset, Done: c.Done, Running: c.Running, Started: c.Started}
		if ch.Iterations > 0 {
			ch.Progress = min(1, max(0, float64(ch.Done)/float64(ch.Iterations)))
		}
		s.Chunks = append(s.Chunks, ch)
	}
	return s
}

// Settings is the answer of GET and PATCH /api/v1/settings: the settings
// in force, how they are spelled, and what each rule does now.
type Settings struct {
	Settings   policy.Settings `json:"settings"`   // in force
	Saved      policy.Settings `json:"saved"`      // in config.ini
	Overridden []string        `json:"overridden"` // keys set for this run by a flag or an environment variable
	Keys       []Key           `json:"keys"`
	Rules      []policy.Effect `json:"rules"` // each rule's current effect
	Cores      int             `json:"cores"` // the cores the node may use now; 0: paused
	Rule       policy.Rule     `json:"rule"`  // the rule that decides Cores
	Machine    policy.Machine  `json:"machine"`
}

// Key describes one setting.
type Key struct {
	Name  string `json:"name"` // config.ini
	JSON  string `json:"json"` // the field of Settings
	Flag  string `json:"flag"`
	Env   string `json:"env"`
	Usage string `json:"usage"`
}

func settingsOf(st policy.Status) Settings {
	s := Settings{
		Settings: st.Settings, Saved: st.Saved, Overridden: st.Overridden, Rules: st.Decision.Effects,
		Cores: st.Decision.Cores, Rule: st.Decision.Rule, Machine: st.Machine,
	}
	if s.Overridden == nil {
		s.Overridden = []string{}
	}
	for _, k := range policy.Keys() {
		s.Keys = append(s.Keys, Key{Name: k.Name, JSON: k.JSON, Flag: k.Flag, Env: k.Env, Usage: k.Usage})
	}
	return s
}

// Event is one event of GET /api/v1/events.
type Event struct {
	Kind       string    `json:"kind"` // state-changed, connection-changed, claimed, chunk-assigned, chunk-completed, chunk-failed, chunk-released, error
	Time       time.Time `json:"time"`
	State      string    `json:"state,omitempty"`
	Connection string    `json:"connection,omitempty"`
	ChunkID    string    `json:"chunkId,omitempty"`
	MeanDps    float64   `json:"meanDps,omitempty"`
	Error      string    `json:"error,omitempty"`
}

func eventOf(e node.Event) Event {
	out := Event{Kind: strings.ReplaceAll(e.Kind.String(), " ", "-"), Time: e.Time, ChunkID: e.Chunk.ID}
	switch e.Kind {
	case node.StateChanged, node.Claimed:
		out.State = e.State.Phase.String()
	case node.ConnectionChanged:
		out.Connection = e.Connection.String()
	case node.ChunkCompleted:
		out.MeanDps = e.Result.MeanDps
	}
	if e.Err != nil {
		out.Error = e.Err.Error()
	}
	return out
}

// Logs is the answer of GET /api/v1/logs.
type Logs struct {
	Entries []logging.Entry `json:"entries"`
}

// errorBody is every error answer.
type errorBody struct {
	Error string `json:"error"`
	Key   string `json:"key,omitempty"` // the setting refused, for PATCH /api/v1/settings
}

func errorOf(err error) errorBody {
	b := errorBody{Error: err.Error()}
	var ke *policy.KeyError
	if errors.As(err, &ke) {
		b.Key = ke.Key
	}
	return b
}
