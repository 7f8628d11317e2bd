// Package gui is node-gui's dashboard: a web page embedded in the binary and
// served by the node's control API, the way Syncthing and Folding@home
// serve theirs. The page drives the node only through the control API (a
// browser session with its CSRF token); this package adds the few
// endpoints a desktop front end needs besides: the last ten minutes of
// iterations per second and CPU use, and opening the log folder.
package gui

import (
	"context"
	"embed"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"wowlab/internal/clock"
	"wowlab/node"
	"wowlab/node/control"
)

//go:embed assets
var assets embed.FS

// SampleEvery is how often the history takes a sample; History keeps
// HistoryLength of them (ten minutes).
const (
	SampleEvery   = 5 * time.Second
	HistoryLength = 120
)

// Info is what the page shows that the control API does not know.
type Info struct {
	LogDir    string `json:"logDir"`    // where the log files are
	ConfigDir string `json:"configDir"` // where config.ini and the key are
	Priority  string `json:"priority"`  // the process priority, as set by flag
}

// Options configure a UI.
type Options struct {
	Info Info
	// OpenFolder opens a folder in the desktop's file manager; nil: the
	// page's button says it is not available.
	OpenFolder func(path string) error
	Clock      clock.Clock // nil: the system clock
	Logger     *slog.Logger
}

// UI is the dashboard of one node.
type UI struct {
	stats func() node.Stats
	opts  Options
	clock clock.Clock
	log   *slog.Logger

	mu      sync.Mutex
	samples []Sample // oldest first, at most HistoryLength
}

// Sample is one point of the history.
type Sample struct {
	Time                time.Time `json:"time"`
	IterationsPerSecond float64   `json:"iterationsPerSecond"`
	CPUPercent          float64   `json:"cpuPercent"` // 100 = one core
}

// New returns the dashboard of a node whose stats come from stats.
func New(stats func() node.Stats, opts Options) *UI {
	u := &UI{stats: stats, opts: opts, clock: opts.Clock, log: opts.Logger}
	if u.clock == nil {
		u.clock = clock.System{}
	}
	if u.log == nil {
		u.log = slog.New(slog.DiscardHandler)
	}
	return u
}

// Handler serves the page and its files; give it to control.Options.UI.
func (u *UI) Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// Everything the page uses is its own: no inline script, no other
		// origin, no frames.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		files.ServeHTTP(w, r)
	})
}

// Routes are the endpoints the page needs besides the control API's; give
// them to control.Options.Routes.
func (u *UI) Routes() []control.Route {
	return []control.Route{
		{Method: http.MethodGet, Path: "/api/v1/ui/info", Handler: u.getInfo},
		{Method: http.MethodGet, Path: "/api/v1/ui/history", Handler: u.getHistory},
		{Method: http.MethodPost, Path: "/api/v1/ui/open-logs", Handler: u.postOpenLogs},
	}
}

// Run samples the node's stats every SampleEvery until ctx ends.
func (u *UI) Run(ctx context.Context) {
	for {
		u.sample()
		select {
		case <-ctx.Done():
			return
		case <-u.clock.After(SampleEvery):
		}
	}
}

func (u *UI) sample() {
	st := u.stats()
	s := Sample{Time: u.clock.Now(), IterationsPerSecond: st.IterationsPerSecond, CPUPercent: st.CPUPercent}
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.samples) == HistoryLength {
		copy(u.samples, u.samples[1:])
		u.samples = u.samples[:HistoryLength-1]
	}
	u.samples = append(u.samples, s)
}

// History returns the samples, oldest first.
func (u *UI) History() []Sample {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]Sample(nil), u.samples...)
}

// InfoResponse is the answer of GET /api/v1/ui/info.
type InfoResponse struct {
	Info
	CanOpenFolder bool `json:"canOpenFolder"`
}

func (u *UI) getInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, InfoResponse{Info: u.opts.Info, CanOpenFolder: u.opts.OpenFolder != nil && u.opts.Info.LogDir != ""})
}

// HistoryResponse is the answer of GET /api/v1/ui/history.
type HistoryResponse struct {
	EverySeconds float64  `json:"everySeconds"`
	Samples      []Sample `json:"samples"`
}

func (u *UI) getHistory(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, HistoryResponse{EverySeconds: SampleEvery.Seconds(), Samples: u.History()})
}

func (u *UI) postOpenLogs(w http.ResponseWriter, r *http.Request) {
	if u.opts.OpenFolder == nil || u.opts.Info.LogDir == "" {
		writeJSON(w, http.StatusNotImplemented, errorBody{Error: "this node cannot open folders on this computer; the logs are in " + u.opts.Info.LogDir})
		return
	}
	if err := u.opts.OpenFolder(u.opts.Info.LogDir); err != nil {
		u.log.Warn("open the log folder", "dir", u.opts.Info.LogDir, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "could not open " + u.opts.Info.LogDir + ": " + err.Error()})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
