package supabase

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ErrNetwork matches (errors.Is) every *NetworkError: the request or the
// socket failed before a complete answer came back.
var ErrNetwork = errors.New("supabase: network error")

// ErrNotConnected is returned by Realtime operations that need a live,
// joined channel when there is none (the socket is down or the channel has
// not been joined yet).
var ErrNotConnected = errors.New("supabase: realtime channel not joined")

// ErrClosed is returned by operations on a Channel that has left.
var ErrClosed = errors.New("supabase: realtime channel closed")

// NetworkError is a transport failure: connection refused, reset, timeout,
// or a body cut short. It is always worth retrying.
type NetworkError struct {
	Op  string // what was being done, e.g. "GET jobs_configs"
	Err error  // the underlying error
}

// Error says what failed and why.
func (e *NetworkError) Error() string {
	return fmt.Sprintf("supabase: %s: network error: %v", e.Op, e.Err)
}

// Unwrap returns the underlying transport error.
func (e *NetworkError) Unwrap() error { return e.Err }

// Is reports target == ErrNetwork, so errors.Is(err, ErrNetwork) finds
// every network failure.
func (e *NetworkError) Is(target error) bool { return target == ErrNetwork }

// RateLimitError is a 429 answer. RetryAfter is the server's Retry-After
// (zero when it sent none or an unreadable one).
type RateLimitError struct {
	Op         string
	RetryAfter time.Duration
	Message    string // PostgREST message or body text, when there was one
}

// Error says what was rate limited and for how long.
func (e *RateLimitError) Error() string {
	msg := fmt.Sprintf("supabase: %s: rate limited (429)", e.Op)
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(", retry after %s", e.RetryAfter)
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// APIError is a non-2xx answer other than 429, carrying PostgREST's error
// body ({"code","message","details","hint"}). When the body was not of
// that shape, Message holds its text (shortened).
type APIError struct {
	Op      string
	Status  int
	Code    string
	Message string
	Details string
	Hint    string
}

// Error gives the status and PostgREST's code, message, details and hint.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("supabase: %s: %d %s", e.Op, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		msg += " [" + e.Code + "]"
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Details != "" {
		msg += " (" + e.Details + ")"
	}
	if e.Hint != "" {
		msg += "; hint: " + e.Hint
	}
	return msg
}

// Retryable reports whether err is worth trying again: a network error, a
// 429, or a 5xx. Other 4xx answers, decoding errors and context errors are
// not.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrNetwork) {
		return true
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return true
	}
	var api *APIError
	if errors.As(err, &api) {
		return api.Status >= 500
	}
	return false
}
