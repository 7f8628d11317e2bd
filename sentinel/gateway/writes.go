package gateway

// Writes of the REST subset: PostgREST-style POST, PATCH and DELETE on
// rotations for user tokens, on the user's own rows only. The sentinel
// keeps what the database would (id, owner, checksum, version, times).

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"wowlab/sentinel"
)

// maxRotationBody bounds a rotation write: a script plus its other fields.
const maxRotationBody = sentinel.MaxScriptBytes + 16<<10

// rotationBody is a rotation as a client writes it. user_id may be given
// only as the caller's own id, as a PostgREST client inserting its row
// under row-level security does.
type rotationBody struct {
	sentinel.RotationFields
	UserID *string `json:"user_id"`
}

// writeRequest is an authenticated user's write: who, the decoded query
// string and the body.
type writeRequest struct {
	caller sentinel.Caller
	query  url.Values
	body   []byte
}

// Routes of the writes, added by Routes.
func (g *Gateway) writeRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /rest/v1/{table}", g.serveWrite)
	mux.HandleFunc("PATCH /rest/v1/{table}", g.serveWrite)
	mux.HandleFunc("DELETE /rest/v1/{table}", g.serveWrite)
}

// serveWrite answers POST, PATCH and DELETE on /rest/v1/rotations.
func (g *Gateway) serveWrite(w http.ResponseWriter, r *http.Request) {
	c, err := g.caller(r)
	if err != nil {
		g.failure(w, err)
		return
	}
	if name := r.PathValue("table"); name != "rotations" {
		g.restError(w, &queryError{status: http.StatusMethodNotAllowed, code: "42501",
			message: "permission denied for table " + name + ": only rotations are written over REST"})
		return
	}
	if c.Role != sentinel.RoleUser {
		status := http.StatusForbidden
		if c.Role == sentinel.RoleAnon {
			status = http.StatusUnauthorized
		}
		g.restError(w, &queryError{status: status, code: "42501", message: "permission denied for table rotations: writing needs a user token"})
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		g.restError(w, badRequest("PGRST100", "bad query string: %v", err))
		return
	}
	body, release, err := g.svc.ReadBody(w, r, maxRotationBody)
	switch {
	case errors.Is(err, sentinel.ErrBodyTooLarge):
		g.restError(w, &queryError{status: http.StatusRequestEntityTooLarge, code: "PGRST413", message: err.Error()})
		return
	case errors.Is(err, sentinel.ErrBodyBudget):
		w.Header().Set("Retry-After", "1")
		g.restError(w, &queryError{status: http.StatusServiceUnavailable, code: "53400", message: err.Error()})
		return
	case err != nil:
		g.restError(w, badRequest("PGRST102", "could not read the request body: %v", err))
		return
	}
	defer release()
	req := writeRequest{caller: c, query: q, body: body}
	var rows []byte
	status := http.StatusOK
	switch r.Method {
	case http.MethodPost:
		rows, err = g.insertRotation(r, req)
		status = http.StatusCreated
	case http.MethodPatch:
		rows, err = g.updateRotation(r, req)
	default:
		rows, err = g.deleteRotation(r, req)
	}
	if err != nil {
		g.failure(w, err)
		return
	}
	if !strings.Contains(r.Header.Get("Prefer"), "return=representation") {
		if status == http.StatusOK {
			status = http.StatusNoContent
		}
		w.WriteHeader(status)
		return
	}
	writeJSONBytes(w, status, rows)
}

// readOwn selects a rotation of the caller with the request's select=.
func (g *Gateway) readOwn(r *http.Request, req writeRequest, id string) ([]byte, error) {
	sel := url.Values{"id": {"eq." + id}, "user_id": {"eq." + req.caller.UserID}}
	if s := req.query.Get("select"); s != "" {
		sel.Set("select", s)
	}
	sq, err := parseSelect(g.schema["rotations"], sel)
	if err != nil {
		return nil, err
	}
	sq.query.Access = access(req.caller)
	return g.store.Select(r.Context(), sq.query)
}

// decodeRotation decodes a body holding one rotation object; unknown
// fields are refused as PostgREST refuses unknown columns.
func decodeRotation(body []byte, caller sentinel.Caller) (sentinel.RotationFields, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var rows []json.RawMessage
		if err := json.Unmarshal(trimmed, &rows); err != nil || len(rows) != 1 {
			return sentinel.RotationFields{}, badRequest("PGRST102", "send one rotation per request, as an object")
		}
		trimmed = rows[0]
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var b rotationBody
	if err := dec.Decode(&b); err != nil {
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return sentinel.RotationFields{}, &queryError{status: http.StatusBadRequest, code: "PGRST204",
				message: "Could not find the " + field + " column of rotations that a client may write",
				hint:    "writable columns: name, slug, script, description, is_public (user_id only as your own id)"}
		}
		return sentinel.RotationFields{}, badRequest("PGRST102", "invalid JSON body: %v", err)
	}
	if dec.More() {
		return sentinel.RotationFields{}, badRequest("PGRST102", "invalid JSON body: data after the object")
	}
	if b.UserID != nil && *b.UserID != caller.UserID {
		return sentinel.RotationFields{}, &queryError{status: http.StatusForbidden, code: "42501",
			message: "new row violates row-level security policy for table rotations: user_id must be your own"}
	}
	return b.RotationFields, nil
}

// targetID returns the row a PATCH or DELETE names: exactly id=eq.<uuid>.
func targetID(q url.Values) (string, error) {
	for k := range q {
		if k != "id" && k != "select" {
			return "", badRequest("PGRST100", "a write of rotations names its row with id=eq.<id> alone, not %q", k)
		}
	}
	v, ok := strings.CutPrefix(q.Get("id"), "eq.")
	if len(q["id"]) != 1 || !ok {
		return "", badRequest("PGRST100", "name the rotation to change with id=eq.<id>")
	}
	u, err := uuid.Parse(v)
	if err != nil {
		return "", &queryError{status: http.StatusBadRequest, code: "22P02", message: "invalid input syntax for type uuid: " + strconv.Quote(v)}
	}
	return u.String(), nil
}

// insertRotation creates a rotation of the caller and returns its row.
func (g *Gateway) insertRotation(r *http.Request, req writeRequest) ([]byte, error) {
	f, err := decodeRotation(req.body, req.caller)
	if err != nil {
		return nil, err
	}
	id, err := g.svc.CreateRotation(r.Context(), req.caller.UserID, f)
	if err != nil {
		return nil, err
	}
	return g.readOwn(r, req, id)
}

// updateRotation changes the caller's rotation and returns its row;
// another's, or none, is no row ([]), as row-level security hides it.
func (g *Gateway) updateRotation(r *http.Request, req writeRequest) ([]byte, error) {
	id, err := targetID(req.query)
	if err != nil {
		return nil, err
	}
	f, err := decodeRotation(req.body, req.caller)
	if err != nil {
		return nil, err
	}
	err = g.svc.UpdateRotation(r.Context(), req.caller.UserID, id, f)
	if sentinel.KindOf(err) == sentinel.KindNotFound {
		return []byte("[]"), nil
	}
	if err != nil {
		return nil, err
	}
	return g.readOwn(r, req, id)
}

// deleteRotation removes the caller's rotation and returns the row as it
// was; another's, or none, is no row ([]).
func (g *Gateway) deleteRotation(r *http.Request, req writeRequest) ([]byte, error) {
	id, err := targetID(req.query)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(req.body)) > 0 {
		return nil, badRequest("PGRST102", "a DELETE has no body")
	}
	rows, err := g.readOwn(r, req, id)
	if err != nil {
		return nil, err
	}
	err = g.svc.DeleteRotation(r.Context(), req.caller.UserID, id)
	if sentinel.KindOf(err) == sentinel.KindNotFound {
		return []byte("[]"), nil
	}
	if err != nil {
		return nil, err
	}
	return rows, nil
}
