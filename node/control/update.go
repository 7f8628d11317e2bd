package control

import (
	"context"
	"errors"
	"net/http"
	"time"

	"wowlab/node/update"
)

// Updates is the node's self-update as the API shows and drives it:
// *update.Checker implements it.
type Updates interface {
	// Status returns what the last check found.
	Status() update.Status
	// CheckNow checks at once and returns the status after.
	CheckNow(ctx context.Context) update.Status
	// SetAutomatic turns automatic updates on or off, saved in the
	// node's configuration; update.ErrNotSwitchable when they are off
	// whatever it says.
	SetAutomatic(on bool) (update.Status, error)
}

var _ Updates = (*update.Checker)(nil)

// UpdateStatus is the update part of Status and the answer of
// POST /api/v1/update/check.
type UpdateStatus struct {
	Version   string `json:"version"`       // running
	Feed      string `json:"feed"`          // where releases come from
	Automatic bool   `json:"automatic"`     // found releases are installed without asking
	Off       string `json:"off,omitempty"` // why automatic updates are off
	// Switchable says whether PUT /api/v1/update/automatic may change
	// Automatic (not while a flag forces it off or the install cannot
	// update itself).
	Switchable bool       `json:"switchable"`
	Available  *Available `json:"available,omitempty"` // the newest release above the running one
	Checked    time.Time  `json:"checked,omitzero"`    // the last check
	Error      string     `json:"error,omitempty"`     // the last check's error
}

// Available is a release the node may update to.
type Available struct {
	Version string `json:"version"`
	Tag     string `json:"tag"`
	Notes   string `json:"notes,omitempty"`
}

func updateStatusOf(s update.Status) *UpdateStatus {
	out := &UpdateStatus{Version: s.Version, Feed: s.Feed, Automatic: s.Automatic, Off: s.Off, Switchable: s.Switchable, Checked: s.Checked, Error: s.Err}
	if r := s.Available; r != nil {
		out.Available = &Available{Version: r.Version, Tag: r.Tag, Notes: r.Notes}
	}
	return out
}

// postUpdateCheck checks for a release at once (a found one is installed
// as at any check when automatic updates are on).
func (s *Server) postUpdateCheck(w http.ResponseWriter, r *http.Request) {
	if !readJSON(w, r, &struct{}{}) {
		return
	}
	if s.opts.Updates == nil {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "this node does not update itself"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	st := s.opts.Updates.CheckNow(ctx)
	s.log.Info("control: update check", "available", st.Available != nil, "err", st.Err)
	writeJSON(w, http.StatusOK, updateStatusOf(st))
}

// AutomaticRequest is the body of PUT /api/v1/update/automatic.
type AutomaticRequest struct {
	Automatic *bool `json:"automatic"` // install found releases by themselves
}

// putAutomatic turns automatic updates on or off (saved in config.ini).
func (s *Server) putAutomatic(w http.ResponseWriter, r *http.Request) {
	var req AutomaticRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Automatic == nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: `automatic is required: send {"automatic": true} or {"automatic": false}`})
		return
	}
	if s.opts.Updates == nil {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "this node does not update itself"})
		return
	}
	st, err := s.opts.Updates.SetAutomatic(*req.Automatic)
	switch {
	case errors.Is(err, update.ErrNotSwitchable):
		writeJSON(w, http.StatusConflict, errorOf(err))
		return
	case err != nil:
		s.log.Warn("control: switching automatic updates failed", "err", err)
		writeJSON(w, http.StatusInternalServerError, errorOf(err))
		return
	}
	s.log.Info("control: automatic updates", "on", st.Automatic)
	writeJSON(w, http.StatusOK, updateStatusOf(st))
}

// SetAutomaticUpdates turns the node's automatic updates on or off.
func (c *Client) SetAutomaticUpdates(ctx context.Context, on bool) (UpdateStatus, error) {
	var u UpdateStatus
	return u, c.do(ctx, http.MethodPut, "/api/v1/update/automatic", AutomaticRequest{Automatic: &on}, &u)
}

// CheckUpdate makes the node look for a release now and returns what it
// found.
func (c *Client) CheckUpdate(ctx context.Context) (UpdateStatus, error) {
	var u UpdateStatus
	return u, c.do(ctx, http.MethodPost, "/api/v1/update/check", nil, &u)
}
