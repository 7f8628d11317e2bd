package supabase

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxResponseBytes bounds how much of an answer REST reads; PostgREST
// answers the node needs (configs, rotations, chunk lists) are far smaller.
const maxResponseBytes = 32 << 20

// RESTOptions are the optional settings of NewREST. The zero value works.
type RESTOptions struct {
	// HTTPClient sends the requests; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Token is the initial bearer token; empty means the anon key.
	Token string
	// Clock reads the time for HTTP-date Retry-After values; nil means the
	// system clock.
	Clock Clock
}

// REST is a PostgREST client for <api_url>/rest/v1. It is safe for
// concurrent use; SetToken may be called at any time (token refresh).
type REST struct {
	base   *url.URL // <api_url>/rest/v1
	apiKey string
	httpc  *http.Client
	clock  Clock
	mu     sync.RWMutex
	token  string
}

// NewREST returns a client for the PostgREST surface under apiURL (for
// example "https://api.wowlab.gg"; "/rest/v1" is appended). anonKey is sent
// as the apikey header on every request.
func NewREST(apiURL, anonKey string, opts RESTOptions) (*REST, error) {
	base, err := parseAPIURL(apiURL)
	if err != nil {
		return nil, err
	}
	if anonKey == "" {
		return nil, errors.New("supabase: anon key is empty")
	}
	base = base.JoinPath("rest", "v1")
	c := &REST{
		base:   base,
		apiKey: anonKey,
		httpc:  opts.HTTPClient,
		clock:  clockOrSystem(opts.Clock),
		token:  opts.Token,
	}
	if c.httpc == nil {
		c.httpc = &http.Client{Timeout: 30 * time.Second}
	}
	if c.token == "" {
		c.token = anonKey
	}
	return c, nil
}

// parseAPIURL checks that s is an absolute http(s) URL without query or
// fragment and returns it without a trailing slash.
func parseAPIURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("supabase: api url %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("supabase: api url %q: scheme must be http or https", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("supabase: api url %q: no host", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("supabase: api url %q: must not have a query or fragment", s)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// SetToken replaces the bearer token sent from now on (for example after a
// node token refresh). An empty token means the anon key.
func (c *REST) SetToken(token string) {
	if token == "" {
		token = c.apiKey
	}
	c.mu.Lock()
	c.token = token
	c.mu.Unlock()
}

// Token returns the bearer token currently sent.
func (c *REST) Token() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.token
}

// Filter is one PostgREST horizontal filter, sent as
// <Column>=<Operator>.<Value>. Build it with Eq, Neq, Gt, Gte, Lt, Lte, Is
// or In; Value is the operand exactly as PostgREST reads it (REST
// URL-encodes it).
type Filter struct {
	Column   string
	Operator string
	Value    string
}

// Eq filters rows whose column equals value.
func Eq(column, value string) Filter { return Filter{column, "eq", value} }

// Neq filters rows whose column differs from value.
func Neq(column, value string) Filter { return Filter{column, "neq", value} }

// Gt filters rows whose column is greater than value.
func Gt(column, value string) Filter { return Filter{column, "gt", value} }

// Gte filters rows whose column is greater than or equal to value.
func Gte(column, value string) Filter { return Filter{column, "gte", value} }

// Lt filters rows whose column is less than value.
func Lt(column, value string) Filter { return Filter{column, "lt", value} }

// Lte filters rows whose column is less than or equal to value.
func Lte(column, value string) Filter { return Filter{column, "lte", value} }

// Is filters rows whose column IS value ("null", "true", "false").
func Is(column, value string) Filter { return Filter{column, "is", value} }

// In filters rows whose column is one of values. Every value is
// double-quoted (with \ and " escaped) so commas, dots and parentheses
// inside a value are taken literally.
func In(column string, values ...string) Filter {
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for _, r := range v {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
	}
	b.WriteByte(')')
	return Filter{column, "in", b.String()}
}

// validIdent reports whether s can be a table, rpc or column name in a
// URL built here: non-empty, no characters that would change the
// request's structure.
func validIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || strings.ContainsRune("/?#&=,.()\"\\ ", r) {
			return false
		}
	}
	return true
}

// queryEscape escapes s for a query string, spaces as %20 rather than '+'
// so that any URL decoder reads it back the same.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// Select runs GET <table>?select=<columns>&<filters> and decodes the JSON
// array answer into dst (a pointer to a slice of the caller's row type).
// An empty columns list selects all columns ("*"). An empty array means no
// rows matched; that is not an error.
func (c *REST) Select(ctx context.Context, table string, columns []string, dst any, filters ...Filter) error {
	op := "GET " + table
	if !validIdent(table) {
		return fmt.Errorf("supabase: %s: invalid table name %q", op, table)
	}
	sel := "*"
	if len(columns) > 0 {
		for _, col := range columns {
			if !validIdent(col) && col != "*" {
				return fmt.Errorf("supabase: %s: invalid column %q", op, col)
			}
		}
		sel = strings.Join(columns, ",")
	}
	parts := make([]string, 0, len(filters)+1)
	parts = append(parts, "select="+queryEscape(sel))
	for _, f := range filters {
		if !validIdent(f.Column) {
			return fmt.Errorf("supabase: %s: invalid filter column %q", op, f.Column)
		}
		if !validIdent(f.Operator) {
			return fmt.Errorf("supabase: %s: invalid filter operator %q", op, f.Operator)
		}
		parts = append(parts, queryEscape(f.Column)+"="+queryEscape(f.Operator+"."+f.Value))
	}
	u := c.base.JoinPath(table)
	u.RawQuery = strings.Join(parts, "&")
	return c.do(ctx, op, http.MethodGet, u, nil, dst)
}

// RPC calls POST rpc/<name> with args (marshalled to a JSON object of named
// arguments; nil sends {}) and decodes the JSON answer into dst (nil
// discards it).
func (c *REST) RPC(ctx context.Context, name string, args any, dst any) error {
	op := "rpc " + name
	if !validIdent(name) {
		return fmt.Errorf("supabase: %s: invalid function name %q", op, name)
	}
	body := []byte("{}")
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return fmt.Errorf("supabase: %s: encode arguments: %w", op, err)
		}
		if len(b) == 0 || b[0] != '{' {
			return fmt.Errorf("supabase: %s: arguments must encode to a JSON object, got %.20s", op, b)
		}
		body = b
	}
	return c.do(ctx, op, http.MethodPost, c.base.JoinPath("rpc", name), body, dst)
}

// do sends one request and maps the answer to dst or to one of this
// package's errors.
func (c *REST) do(ctx context.Context, op, method string, u *url.URL, body []byte, dst any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("supabase: %s: %w", op, err)
	}
	req.Header.Set("apikey", c.apiKey)
	req.Header.Set("Authorization", "Bearer "+c.Token())
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("supabase: %s: %w", op, ctx.Err())
		}
		return &NetworkError{Op: op, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("supabase: %s: %w", op, ctx.Err())
		}
		return &NetworkError{Op: op, Err: fmt.Errorf("read answer: %w", err)}
	}
	if len(data) > maxResponseBytes {
		return fmt.Errorf("supabase: %s: answer larger than %d bytes", op, maxResponseBytes)
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return &RateLimitError{
			Op:         op,
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.clock.Now()),
			Message:    parseAPIError(op, resp.StatusCode, data).Message,
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return parseAPIError(op, resp.StatusCode, data)
	}
	if dst == nil {
		return nil
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("supabase: %s: decode answer: %w", op, err)
	}
	return nil
}

// parseAPIError reads a PostgREST error body; a body of another shape
// becomes the message, shortened.
func parseAPIError(op string, status int, data []byte) *APIError {
	e := &APIError{Op: op, Status: status}
	var body struct {
		Code    json.RawMessage `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
		Hint    json.RawMessage `json:"hint"`
		Error   string          `json:"error"`
	}
	if err := json.Unmarshal(data, &body); err == nil {
		e.Code = jsonText(body.Code)
		e.Message = body.Message
		e.Details = jsonText(body.Details)
		e.Hint = jsonText(body.Hint)
		if e.Message == "" {
			e.Message = body.Error
		}
		return e
	}
	text := strings.TrimSpace(string(data))
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	e.Message = text
	return e
}

// jsonText returns a JSON string's value, or the raw text of any other
// non-null value (PostgREST's code is a string, but some servers send
// numbers).
func jsonText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return string(raw)
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date. Anything else, or a time in the past, is zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		const maxSeconds = int64(24 * time.Hour / time.Second)
		return time.Duration(min(n, maxSeconds)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
