package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"wowlab/internal/logging"
)

// Client talks to the control API of a running node.
type Client struct {
	base string
	key  string
	http *http.Client
}

// Dial returns a client of the node running with config directory dir: it
// reads the address and the key there. ErrNotRunning means no node wrote
// its address. hc nil uses http.DefaultClient; give one with a timeout for
// anything but streams.
func Dial(dir string, hc *http.Client) (*Client, error) {
	u, err := readURL(dir)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, KeyFile))
	if err != nil {
		return nil, fmt.Errorf("read the API key: %w", err)
	}
	return NewClient(u, strings.TrimSpace(string(raw)), hc), nil
}

// NewClient returns a client of the API at base (http://host:port) with
// key.
func NewClient(base, key string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimSuffix(base, "/"), key: key, http: hc}
}

// URL returns the API's base URL.
func (c *Client) URL() string { return c.base }

// APIError is an answer of the API other than success.
type APIError struct {
	Status  int
	Message string
	Key     string // the setting refused, if any
}

func (e *APIError) Error() string { return e.Message }

// do sends a request and decodes a JSON answer into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(out); err != nil {
		return fmt.Errorf("read the node's answer to %s %s: %w", method, path, err)
	}
	return nil
}

// send sends a request and returns a successful response.
func (c *Client) send(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set(keyHeader, c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if oe := (*net.OpError)(nil); errors.As(err, &oe) && oe.Op == "dial" {
			return nil, fmt.Errorf("%w (nothing answers at %s)", ErrNotRunning, c.base)
		}
		return nil, fmt.Errorf("reach the node at %s: %w", c.base, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	var eb errorBody
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(raw, &eb) != nil || eb.Error == "" {
		eb.Error = strings.TrimSpace(string(raw))
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return nil, fmt.Errorf("%w: %s", ErrUnauthorized, eb.Error)
	}
	return nil, &APIError{Status: resp.StatusCode, Message: eb.Error, Key: eb.Key}
}

// Status returns the node's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	return s, c.do(ctx, http.MethodGet, "/api/v1/status", nil, &s)
}

// Pause pauses the node (now: handing back running chunks too) and returns
// its status after.
func (c *Client) Pause(ctx context.Context, now bool) (Status, error) {
	var s Status
	return s, c.do(ctx, http.MethodPost, "/api/v1/pause", PauseRequest{Now: now}, &s)
}

// Resume resumes a paused node.
func (c *Client) Resume(ctx context.Context) (Status, error) {
	var s Status
	return s, c.do(ctx, http.MethodPost, "/api/v1/resume", nil, &s)
}

// RetryNow makes a node waiting for the sentinel try again at once.
func (c *Client) RetryNow(ctx context.Context) (Status, error) {
	var s Status
	return s, c.do(ctx, http.MethodPost, "/api/v1/retry", nil, &s)
}

// Finish makes the node finish its chunks and stop.
func (c *Client) Finish(ctx context.Context) (Status, error) {
	var s Status
	return s, c.do(ctx, http.MethodPost, "/api/v1/finish", nil, &s)
}

// Unlink makes the node finish, then forget its identity.
func (c *Client) Unlink(ctx context.Context) (Status, error) {
	var s Status
	return s, c.do(ctx, http.MethodPost, "/api/v1/unlink", nil, &s)
}

// Settings returns the settings and their effects.
func (c *Client) Settings(ctx context.Context) (Settings, error) {
	var s Settings
	return s, c.do(ctx, http.MethodGet, "/api/v1/settings", nil, &s)
}

// UpdateSettings changes settings, given by name with text values as on
// the command line, and returns them after.
func (c *Client) UpdateSettings(ctx context.Context, patch map[string]string) (Settings, error) {
	var s Settings
	return s, c.do(ctx, http.MethodPatch, "/api/v1/settings", patch, &s)
}

// Logs returns up to limit recent log entries at level or above.
func (c *Client) Logs(ctx context.Context, limit int, level slog.Level) ([]logging.Entry, error) {
	var l Logs
	q := url.Values{"limit": {strconv.Itoa(limit)}, "level": {level.String()}}
	return l.Entries, c.do(ctx, http.MethodGet, "/api/v1/logs?"+q.Encode(), nil, &l)
}

// FollowLogs calls fn with the last backlog entries, then with each new
// one, until ctx ends or the node stops (it returns nil then).
func (c *Client) FollowLogs(ctx context.Context, backlog int, level slog.Level, fn func(logging.Entry)) error {
	q := url.Values{"backlog": {strconv.Itoa(backlog)}, "level": {level.String()}}
	resp, err := c.send(ctx, http.MethodGet, "/api/v1/logs/stream?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var e logging.Entry
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			return fmt.Errorf("read the log stream: %w", err)
		}
		fn(e)
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("read the log stream: %w", err)
	}
	return nil
}

// LoginLink returns a one-time URL that opens a browser session.
func (c *Client) LoginLink(ctx context.Context) (string, error) {
	var l LinkResponse
	return l.URL, c.do(ctx, http.MethodPost, "/api/v1/session/link", nil, &l)
}
