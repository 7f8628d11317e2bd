package sentinel

// User-facing REST calls in the shape of PostgREST (PROTOCOL section 5):
// POST /rest/v1/rpc/<name> with a JSON object of named arguments, and
// GET /rest/v1/jobs?id=eq.<id>&select=<columns> for a user's own jobs.
// They authenticate with a user token (Authorization: Bearer <token>).
// Errors are PostgREST-shaped: {"code","message","details","hint"}.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"wowlab/sentinel/store"
)

// RESTError is a PostgREST-shaped error body.
type RESTError struct {
	Code    string  `json:"code"`
	Message string  `json:"message"`
	Details *string `json:"details"`
	Hint    *string `json:"hint"`
}

func restError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, RESTError{Code: code, Message: msg})
}

func (s *Service) restFailure(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		s.log.Error("REST call failed", "err", err)
		restError(w, http.StatusInternalServerError, "XX000", "internal error")
		return
	}
	switch e.Kind {
	case KindUnauthorized:
		restError(w, http.StatusUnauthorized, "PGRST301", e.Message)
	case KindForbidden:
		restError(w, http.StatusForbidden, "42501", e.Message)
	case KindNotFound:
		restError(w, http.StatusNotFound, "P0002", e.Message)
	case KindConflict:
		restError(w, http.StatusConflict, "P0001", e.Message)
	default:
		restError(w, http.StatusBadRequest, "22023", e.Message)
	}
}

type userHandler func(ctx context.Context, u store.User, r *http.Request, body []byte) (any, error)

// userCall authenticates the bearer user token, reads a JSON body of at most
// MaxConfigBytes plus room for the other arguments, calls h and answers JSON.
func (s *Service) userCall(h userHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			restError(w, http.StatusUnauthorized, "PGRST301", "missing Authorization: Bearer <user token>")
			return
		}
		u, err := s.AuthenticateUser(r.Context(), strings.TrimSpace(token))
		if err != nil {
			s.restFailure(w, err)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxConfigBytes+64<<10))
		if err != nil {
			restError(w, http.StatusRequestEntityTooLarge, "PGRST413", "request body too large")
			return
		}
		resp, err := h(r.Context(), u, r, body)
		if err != nil {
			s.restFailure(w, err)
			return
		}
		writeJSON(w, http.StatusOK, resp)
	})
}

func decodeArgs(body []byte, v any) error {
	if len(body) == 0 {
		return refuse(KindInvalid, "the rpc needs a JSON object of arguments")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return refuse(KindInvalid, "invalid JSON arguments: %v", err)
	}
	return nil
}

func (s *Service) rpcCreateJob(ctx context.Context, u store.User, _ *http.Request, body []byte) (any, error) {
	var req JobRequest
	if err := decodeArgs(body, &req); err != nil {
		return nil, err
	}
	return s.CreateJob(ctx, u.ID, req)
}

func (s *Service) rpcVerifyClaimCode(ctx context.Context, _ store.User, _ *http.Request, body []byte) (any, error) {
	var args struct {
		Code string `json:"p_code"`
	}
	if err := decodeArgs(body, &args); err != nil {
		return nil, err
	}
	return s.VerifyClaimCode(ctx, args.Code)
}

func (s *Service) rpcClaimNode(ctx context.Context, u store.User, _ *http.Request, body []byte) (any, error) {
	var args struct {
		NodeID      string  `json:"p_node_id"`
		Name        *string `json:"p_name"`
		MaxParallel *int    `json:"p_max_parallel"`
	}
	if err := decodeArgs(body, &args); err != nil {
		return nil, err
	}
	if args.NodeID == "" {
		return nil, refuse(KindInvalid, "p_node_id is required")
	}
	return s.ClaimNode(ctx, ClaimRequest{UserID: u.ID, NodeID: args.NodeID, Name: args.Name, MaxParallel: args.MaxParallel})
}

// jobColumns are the columns GET /rest/v1/jobs may select.
var jobColumns = map[string]bool{
	"id": true, "user_id": true, "config_hash": true, "total_iterations": true, "completed_iterations": true,
	"status": true, "result": true, "created_at": true, "completed_at": true, "access_type": true,
	"discord_server_id": true, "error": true,
}

// restJobs answers GET /rest/v1/jobs?id=eq.<id>[&select=a,b]: an array
// holding the user's job (empty when it is not theirs or does not exist).
func (s *Service) restJobs(ctx context.Context, u store.User, r *http.Request, _ []byte) (any, error) {
	q := r.URL.Query()
	id, ok := strings.CutPrefix(q.Get("id"), "eq.")
	if !ok || id == "" {
		return nil, refuse(KindInvalid, "filter id=eq.<job id> is required")
	}
	var cols []string
	if sel := q.Get("select"); sel != "" && sel != "*" {
		for _, c := range strings.Split(sel, ",") {
			c = strings.TrimSpace(c)
			if !jobColumns[c] {
				return nil, refuse(KindInvalid, "unknown column %q in select", c)
			}
			cols = append(cols, c)
		}
	}
	row, err := s.JobRow(ctx, u.ID, id)
	if KindOf(err) == KindNotFound {
		return []any{}, nil
	}
	if err != nil {
		return nil, err
	}
	var full map[string]json.RawMessage
	if err := json.Unmarshal(row, &full); err != nil {
		return nil, err
	}
	if cols == nil {
		return []map[string]json.RawMessage{full}, nil
	}
	out := make(map[string]json.RawMessage, len(cols))
	for _, c := range cols {
		out[c] = full[c]
	}
	return []map[string]json.RawMessage{out}, nil
}
