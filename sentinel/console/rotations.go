package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"wowlab/engine"
	"wowlab/engine/rotation"
	"wowlab/sentinel"
	"wowlab/sentinel/store"
)

// rotationRow is a rotations row as the console reads it.
type rotationRow struct {
	ID             string    `json:"id"`
	UserID         *string   `json:"user_id"`
	Slug           string    `json:"slug"`
	Name           string    `json:"name"`
	Script         string    `json:"script"`
	Description    *string   `json:"description"`
	IsPublic       bool      `json:"is_public"`
	CurrentVersion int       `json:"current_version"`
	Checksum       string    `json:"checksum"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// rotationView is a rotation with whether the signed-in user owns it.
type rotationView struct {
	rotationRow
	Own bool
}

const rotationColumns = "id,user_id,slug,name,script,description,is_public,current_version,checksum,updated_at"

// rotations reads the rotations the user may read (own and public), or
// the one with id.
func (c *Console) rotations(r *http.Request, id string) ([]rotationView, error) {
	u := sessionOf(r).user
	q := store.Query{Table: "rotations", Columns: strings.Split(rotationColumns, ","), Limit: store.MaxRows,
		Access: store.Access{Role: store.AccessUser, UserID: u.ID},
		Orders: []store.Order{{Column: "updated_at", Desc: true}}}
	if id != "" {
		q.Filters = []store.Filter{{Column: "id", Op: store.OpEq, Values: []string{id}}}
	}
	raw, err := c.store.Select(r.Context(), q)
	var qe *store.QueryError
	if errors.As(err, &qe) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read rotations: %w", err)
	}
	var rows []rotationRow
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("read rotations: %w", err)
	}
	views := make([]rotationView, len(rows))
	for i, row := range rows {
		views[i] = rotationView{rotationRow: row, Own: row.UserID != nil && *row.UserID == u.ID}
	}
	return views, nil
}

func (c *Console) serveRotations(w http.ResponseWriter, r *http.Request) {
	views, err := c.rotations(r, "")
	if err != nil {
		c.internal(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "rotations", page{Title: "Rotations", Nav: "rotations", Data: views})
}

// rotationForm is the edit form: a rotation (ID empty for a new one),
// the spec to validate for and the engine's problems.
type rotationForm struct {
	ID          string
	Name        string
	Slug        string
	Description string
	Script      string
	IsPublic    bool
	Own         bool
	Spec        string
	Specs       []string
	CheckedFor  string // the spec the script was validated for
	Problems    rotation.Problems
	Valid       bool // validated without problems
}

func specNames() []string {
	var out []string
	for _, s := range engine.Specs() {
		out = append(out, s.Name)
	}
	return out
}

func (c *Console) serveNewRotation(w http.ResponseWriter, r *http.Request) {
	c.renderRotation(w, r, http.StatusOK, rotationForm{Own: true, Script: "{\n  \"actions\": [\n    {\"cast\": \"kill_command\"},\n    {\"cast\": \"cobra_shot\"}\n  ]\n}\n"}, "")
}

func (c *Console) renderRotation(w http.ResponseWriter, r *http.Request, status int, f rotationForm, refusal string) {
	f.Specs = specNames()
	title := "New rotation"
	if f.ID != "" {
		title = "Rotation " + f.Name
	}
	c.render(w, r, status, "rotation", page{Title: title, Nav: "rotations", Error: refusal, Data: f})
}

func (c *Console) serveRotation(w http.ResponseWriter, r *http.Request) {
	views, err := c.rotations(r, r.PathValue("id"))
	if err != nil {
		c.internal(w, r, err)
		return
	}
	if len(views) == 0 {
		c.refusal(w, r, http.StatusNotFound, "There is no such rotation of yours, nor a public one.")
		return
	}
	v := views[0]
	c.renderRotation(w, r, http.StatusOK, rotationForm{ID: v.ID, Name: v.Name, Slug: v.Slug, Description: derefString(v.Description),
		Script: v.Script, IsPublic: v.IsPublic, Own: v.Own}, "")
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// saveRotation creates or changes a rotation, or with action=validate
// checks the script with the engine and shows its problems.
func (c *Console) saveRotation(w http.ResponseWriter, r *http.Request) {
	f := rotationForm{ID: r.PathValue("id"), Name: r.PostFormValue("name"), Slug: strings.TrimSpace(r.PostFormValue("slug")),
		Description: r.PostFormValue("description"), Script: r.PostFormValue("script"), IsPublic: r.PostFormValue("is_public") == "on",
		Own: true, Spec: r.PostFormValue("spec")}
	if r.PostFormValue("action") == "validate" {
		f.Problems, f.CheckedFor = sentinel.ValidateRotation(f.Script, f.Spec)
		f.Valid = len(f.Problems) == 0
		c.renderRotation(w, r, http.StatusOK, f, "")
		return
	}
	fields := sentinel.RotationFields{Name: &f.Name, Script: &f.Script, Description: &f.Description, IsPublic: &f.IsPublic}
	if f.Slug != "" {
		fields.Slug = &f.Slug
	}
	user := sessionOf(r).user.ID
	var err error
	if f.ID == "" {
		f.ID, err = c.svc.CreateRotation(r.Context(), user, fields)
	} else {
		err = c.svc.UpdateRotation(r.Context(), user, f.ID, fields)
	}
	var se *sentinel.Error
	if errors.As(err, &se) {
		if f.ID != "" && se.Kind == sentinel.KindNotFound {
			c.refusal(w, r, http.StatusNotFound, "There is no such rotation of yours.")
			return
		}
		f.Problems = se.Problems
		if se.Kind != sentinel.KindInvalid || len(se.Problems) == 0 {
			c.renderRotation(w, r, http.StatusBadRequest, f, se.Message)
			return
		}
		c.renderRotation(w, r, http.StatusBadRequest, f, "The rotation was not saved: the engine found problems in the script.")
		return
	}
	if err != nil {
		c.internal(w, r, err)
		return
	}
	back(w, r, "/console/rotations/"+f.ID, "Rotation saved.")
}

func (c *Console) deleteRotation(w http.ResponseWriter, r *http.Request) {
	if err := c.svc.DeleteRotation(r.Context(), sessionOf(r).user.ID, r.PathValue("id")); err != nil {
		c.failure(w, r, err)
		return
	}
	back(w, r, "/console/rotations", "Rotation deleted.")
}
