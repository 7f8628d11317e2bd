package gateway

// The REST subset (PROTOCOL section 5): GET /rest/v1/<table> with select,
// filters, order, limit and offset, and POST /rest/v1/rpc/<name>. Errors are
// PostgREST-shaped: {"code","message","details","hint"}.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"wowlab/sentinel"
	"wowlab/sentinel/store"
)

// RESTError is a PostgREST-shaped error body.
type RESTError struct {
	Code    string  `json:"code"`
	Message string  `json:"message"`
	Details *string `json:"details"`
	Hint    *string `json:"hint"`
}

// maxRPCBody bounds an rpc's arguments: a config plus room for the others.
const maxRPCBody = sentinel.MaxConfigBytes + 64<<10

// singleObject is the Accept type asking for one object instead of an array.
const singleObject = "application/vnd.pgrst.object+json"

func writeJSONBytes(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"code":"XX000","message":"internal error","details":null,"hint":null}`)
	}
	writeJSONBytes(w, status, body)
}

func (g *Gateway) restError(w http.ResponseWriter, e *queryError) {
	body := RESTError{Code: e.code, Message: e.message}
	if e.details != "" {
		body.Details = &e.details
	}
	if e.hint != "" {
		body.Hint = &e.hint
	}
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	writeJSON(w, e.status, body)
}

// failure answers err: a queryError as it is, a service refusal by its
// kind, a store's refusal of a query (unknown column, bad uuid or number)
// as 400, an unreachable database as 503, anything else as 500.
func (g *Gateway) failure(w http.ResponseWriter, err error) {
	var qe *queryError
	if errors.As(err, &qe) {
		g.restError(w, qe)
		return
	}
	var se *sentinel.Error
	if errors.As(err, &se) {
		st, code := http.StatusBadRequest, "22023"
		switch se.Kind {
		case sentinel.KindUnauthorized:
			st, code = http.StatusUnauthorized, "PGRST301"
		case sentinel.KindForbidden:
			st, code = http.StatusForbidden, "42501"
		case sentinel.KindNotFound:
			st, code = http.StatusNotFound, "P0002"
		case sentinel.KindConflict:
			st, code = http.StatusConflict, "P0001"
		case sentinel.KindTooMany:
			// configuration_limit_exceeded: PostgreSQL's nearest SQLSTATE.
			st, code = http.StatusTooManyRequests, "53400"
			w.Header().Set("Retry-After", se.RetryAfterSeconds())
		}
		g.restError(w, &queryError{status: st, code: code, message: se.Message})
		return
	}
	var sqe *store.QueryError
	if errors.As(err, &sqe) {
		g.restError(w, &queryError{status: http.StatusBadRequest, code: sqe.Code, message: sqe.Message, details: sqe.Detail, hint: sqe.Hint})
		return
	}
	if store.Unavailable(err) {
		// PostgREST answers 503 PGRST000 when it cannot reach the database.
		g.log.Warn("REST request: database unavailable", "err", err)
		w.Header().Set("Retry-After", "1")
		g.restError(w, &queryError{status: http.StatusServiceUnavailable, code: "PGRST000", message: "database unavailable, try again"})
		return
	}
	g.log.Error("REST request failed", "err", err)
	g.restError(w, &queryError{status: http.StatusInternalServerError, code: "XX000", message: "internal error"})
}

// caller checks the apikey and resolves the bearer (the apikey itself when
// there is none, as PostgREST treats a request without Authorization).
func (g *Gateway) caller(r *http.Request) (sentinel.Caller, error) {
	key := r.Header.Get("apikey")
	if err := g.svc.CheckAPIKey(key); err != nil {
		return sentinel.Caller{}, err
	}
	token := key
	if auth := r.Header.Get("Authorization"); auth != "" {
		t, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			return sentinel.Caller{}, &queryError{status: http.StatusUnauthorized, code: "PGRST301", message: "Authorization must be 'Bearer <token>'"}
		}
		token = t
	}
	return g.svc.Authenticate(r.Context(), token)
}

// access is what the store needs to know of a caller to apply the row
// access rules.
func access(c sentinel.Caller) store.Access {
	switch c.Role {
	case sentinel.RoleNode:
		return store.Access{Role: store.AccessNode, NodeID: c.NodeID}
	case sentinel.RoleUser:
		return store.Access{Role: store.AccessUser, UserID: c.UserID}
	}
	return store.Access{Role: store.AccessAnon}
}

// serveSelect answers GET /rest/v1/<table>.
func (g *Gateway) serveSelect(w http.ResponseWriter, r *http.Request) {
	c, err := g.caller(r)
	if err != nil {
		g.failure(w, err)
		return
	}
	name := r.PathValue("table")
	t, ok := g.schema[name]
	if !ok {
		g.restError(w, &queryError{status: http.StatusBadRequest, code: "42P01", message: "relation public." + name + " does not exist",
			hint: "readable tables: jobs_configs, rotations, jobs_chunks, jobs, nodes"})
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		g.restError(w, badRequest("PGRST100", "bad query string: %v", err))
		return
	}
	sq, err := parseSelect(t, q)
	if err != nil {
		g.failure(w, err)
		return
	}
	sq.query.Access = access(c)
	body, err := g.store.Select(r.Context(), sq.query)
	if err != nil {
		g.failure(w, err)
		return
	}
	if strings.Contains(r.Header.Get("Accept"), singleObject) {
		var rows []json.RawMessage
		if err := json.Unmarshal(body, &rows); err != nil {
			g.failure(w, err)
			return
		}
		if len(rows) != 1 {
			g.restError(w, &queryError{status: http.StatusNotAcceptable, code: "PGRST116",
				message: "JSON object requested, multiple (or no) rows returned",
				details: "The result contains " + strconv.Itoa(len(rows)) + " rows"})
			return
		}
		body = rows[0]
	}
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSONBytes(w, http.StatusOK, body)
}

// rpcCaller is who calls an rpc: the token's caller and the address the
// per-address limits count.
type rpcCaller struct {
	sentinel.Caller
	address string
}

// rpcCall is one rpc: it decodes its arguments and calls the service.
type rpcCall func(ctx context.Context, c rpcCaller, args []byte) (any, error)

// serveRPC answers POST /rest/v1/rpc/<name>. Every rpc needs a user token.
func (g *Gateway) serveRPC(w http.ResponseWriter, r *http.Request) {
	c, err := g.caller(r)
	if err != nil {
		g.failure(w, err)
		return
	}
	calls := map[string]rpcCall{
		"create_job":        g.rpcCreateJob,
		"verify_claim_code": g.rpcVerifyClaimCode,
		"claim_node":        g.rpcClaimNode,
		"cancel_job":        g.rpcCancelJob,
		"job_progress":      g.rpcJobProgress,
	}
	name := r.PathValue("fn")
	call, ok := calls[name]
	if !ok {
		g.restError(w, &queryError{status: http.StatusNotFound, code: "PGRST202",
			message: "Could not find the function public." + name, hint: "functions: create_job, cancel_job, job_progress, verify_claim_code, claim_node"})
		return
	}
	if c.Role != sentinel.RoleUser {
		status := http.StatusForbidden
		if c.Role == sentinel.RoleAnon {
			status = http.StatusUnauthorized
		}
		g.restError(w, &queryError{status: status, code: "42501", message: "permission denied for function " + name + ": it needs a user token"})
		return
	}
	body, release, err := g.svc.ReadBody(w, r, maxRPCBody)
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
	resp, err := call(r.Context(), rpcCaller{Caller: c, address: g.svc.ClientAddress(r)}, body)
	if err != nil {
		g.failure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func decodeArgs(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return badRequest("PGRST100", "the rpc needs a JSON object of arguments")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest("PGRST102", "invalid JSON arguments: %v", err)
	}
	return nil
}

func (g *Gateway) rpcCreateJob(ctx context.Context, c rpcCaller, body []byte) (any, error) {
	var req sentinel.JobRequest
	if err := decodeArgs(body, &req); err != nil {
		return nil, err
	}
	return g.svc.CreateJob(ctx, c.UserID, req)
}

// jobArgs are the arguments of the rpcs about one job.
type jobArgs struct {
	JobID string `json:"p_job_id"`
}

func (g *Gateway) rpcCancelJob(ctx context.Context, c rpcCaller, body []byte) (any, error) {
	var args jobArgs
	if err := decodeArgs(body, &args); err != nil {
		return nil, err
	}
	if err := g.svc.CancelJob(ctx, c.UserID, args.JobID); err != nil {
		return nil, err
	}
	return map[string]bool{"cancelled": true}, nil
}

func (g *Gateway) rpcJobProgress(ctx context.Context, c rpcCaller, body []byte) (any, error) {
	var args jobArgs
	if err := decodeArgs(body, &args); err != nil {
		return nil, err
	}
	return g.svc.Progress(ctx, c.UserID, args.JobID)
}

func (g *Gateway) rpcVerifyClaimCode(ctx context.Context, c rpcCaller, body []byte) (any, error) {
	var args struct {
		Code string `json:"p_code"`
	}
	if err := decodeArgs(body, &args); err != nil {
		return nil, err
	}
	return g.svc.VerifyClaimCode(ctx, sentinel.CodeCheck{UserID: c.UserID, Address: c.address, Code: args.Code})
}

// rpcClaimNode claims by p_node_id, which the same user must have checked
// with verify_claim_code within sentinel.ClaimCheckTTL, or (extension) by
// p_code, the code itself.
func (g *Gateway) rpcClaimNode(ctx context.Context, c rpcCaller, body []byte) (any, error) {
	var args struct {
		NodeID      string  `json:"p_node_id"`
		Code        string  `json:"p_code"`
		Name        *string `json:"p_name"`
		MaxParallel *int    `json:"p_max_parallel"`
	}
	if err := decodeArgs(body, &args); err != nil {
		return nil, err
	}
	if args.NodeID == "" && args.Code == "" {
		return nil, badRequest("22023", "p_node_id (or p_code) is required")
	}
	return g.svc.ClaimNode(ctx, sentinel.ClaimRequest{UserID: c.UserID, NodeID: args.NodeID, Code: args.Code, Address: c.address,
		Name: args.Name, MaxParallel: args.MaxParallel})
}
