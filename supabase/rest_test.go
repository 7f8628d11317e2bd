package supabase

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newTestREST(t *testing.T, h http.HandlerFunc, opts RESTOptions) *REST {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := NewREST(srv.URL+"/", "anon-key", opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewRESTRejectsBadInput(t *testing.T) {
	for _, tc := range []struct{ url, key string }{
		{"", "k"},
		{"ftp://x", "k"},
		{"http://", "k"},
		{"http://x?y=1", "k"},
		{"http://x", ""},
		{"::not a url", "k"},
	} {
		if _, err := NewREST(tc.url, tc.key, RESTOptions{}); err == nil {
			t.Errorf("NewREST(%q, %q): no error", tc.url, tc.key)
		}
	}
}

func TestSelectSendsHeadersEncodesFiltersDecodesRows(t *testing.T) {
	type row struct {
		ID       string `json:"id"`
		Script   string `json:"script"`
		Checksum string `json:"checksum"`
	}
	var got *http.Request
	c := newTestREST(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `[{"id":"r1","script":"cast x","checksum":"ab"},{"id":"r2","script":"","checksum":"cd"}]`)
	}, RESTOptions{})

	var rows []row
	err := c.Select(context.Background(), "rotations", []string{"id", "script", "checksum"}, &rows,
		Eq("name", "a b&c=d,e+f"), In("id", "x,y", `q"u\o`, "z"), Is("deleted_at", "null"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0] != (row{"r1", "cast x", "ab"}) || rows[1].ID != "r2" {
		t.Errorf("rows = %+v", rows)
	}
	if got.Method != http.MethodGet || got.URL.Path != "/rest/v1/rotations" {
		t.Errorf("request = %s %s", got.Method, got.URL.Path)
	}
	if h := got.Header.Get("apikey"); h != "anon-key" {
		t.Errorf("apikey = %q", h)
	}
	if h := got.Header.Get("Authorization"); h != "Bearer anon-key" {
		t.Errorf("Authorization = %q", h)
	}
	wantRaw := "select=id%2Cscript%2Cchecksum&name=eq.a%20b%26c%3Dd%2Ce%2Bf&id=in.%28%22x%2Cy%22%2C%22q%5C%22u%5C%5Co%22%2C%22z%22%29&deleted_at=is.null"
	if got.URL.RawQuery != wantRaw {
		t.Errorf("raw query\n got %s\nwant %s", got.URL.RawQuery, wantRaw)
	}
	q := got.URL.Query()
	for k, want := range map[string]string{
		"select":     "id,script,checksum",
		"name":       "eq.a b&c=d,e+f",
		"id":         `in.("x,y","q\"u\\o","z")`,
		"deleted_at": "is.null",
	} {
		if q.Get(k) != want || len(q[k]) != 1 {
			t.Errorf("query %s = %q, want %q", k, q[k], want)
		}
	}
}

func TestSelectEmptyColumnsAndEmptyAnswer(t *testing.T) {
	c := newTestREST(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("select") != "*" {
			t.Errorf("select = %q", r.URL.Query().Get("select"))
		}
		io.WriteString(w, `[]`)
	}, RESTOptions{})
	rows := []map[string]any{{"stale": true}}
	if err := c.Select(context.Background(), "jobs", nil, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 0 {
		t.Errorf("rows = %v, want none", rows)
	}
}

func TestSelectRejectsBadNamesWithoutSending(t *testing.T) {
	var calls atomic.Int32
	c := newTestREST(t, func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }, RESTOptions{})
	var rows []any
	for name, call := range map[string]func() error{
		"table":    func() error { return c.Select(context.Background(), "jobs?x=1", nil, &rows) },
		"empty":    func() error { return c.Select(context.Background(), "", nil, &rows) },
		"column":   func() error { return c.Select(context.Background(), "jobs", []string{"a,b"}, &rows) },
		"filter":   func() error { return c.Select(context.Background(), "jobs", nil, &rows, Eq("a&b", "1")) },
		"operator": func() error { return c.Select(context.Background(), "jobs", nil, &rows, Filter{"a", "e.q", "1"}) },
		"rpc":      func() error { return c.RPC(context.Background(), "x/y", nil, nil) },
		"rpcargs":  func() error { return c.RPC(context.Background(), "f", []int{1}, nil) },
	} {
		if err := call(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d requests sent for bad input", n)
	}
}

func TestSetTokenConcurrent(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	c := newTestREST(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("Authorization")] = true
		mu.Unlock()
		io.WriteString(w, `[]`)
	}, RESTOptions{Token: "first"})
	if c.Token() != "first" {
		t.Fatalf("Token = %q", c.Token())
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if i%2 == 0 {
				c.SetToken("second")
				return
			}
			var rows []any
			if err := c.Select(context.Background(), "nodes", nil, &rows); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var rows []any
	if err := c.Select(context.Background(), "nodes", nil, &rows); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !seen["Bearer second"] {
		t.Errorf("new token never sent: %v", seen)
	}
	c.SetToken("")
	if c.Token() != "anon-key" {
		t.Errorf("empty token gives %q, want the anon key", c.Token())
	}
}

func TestRPC(t *testing.T) {
	c := newTestREST(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/rest/v1/rpc/create_job" {
			t.Errorf("request = %s %s", r.Method, r.URL.Path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		var args map[string]any
		if err := json.NewDecoder(r.Body).Decode(&args); err != nil {
			t.Errorf("body: %v", err)
		}
		if args["p_config_hash"] != "abc" || args["p_iterations"] != float64(2500) {
			t.Errorf("args = %v", args)
		}
		io.WriteString(w, `{"jobId":"j1","chunks":3}`)
	}, RESTOptions{})
	var out struct {
		JobID  string `json:"jobId"`
		Chunks int    `json:"chunks"`
	}
	err := c.RPC(context.Background(), "create_job", map[string]any{"p_config_hash": "abc", "p_iterations": 2500}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.JobID != "j1" || out.Chunks != 3 {
		t.Errorf("answer = %+v", out)
	}
}

func TestErrors(t *testing.T) {
	clock := newInstantClock()
	for _, tc := range []struct {
		name   string
		status int
		header map[string]string
		body   string
		check  func(t *testing.T, err error)
	}{
		{"429 seconds", 429, map[string]string{"Retry-After": "7"}, `{"message":"slow down"}`, func(t *testing.T, err error) {
			var rl *RateLimitError
			if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second || rl.Message != "slow down" {
				t.Errorf("err = %#v", err)
			}
			if !Retryable(err) {
				t.Error("429 not retryable")
			}
		}},
		{"429 date", 429, map[string]string{"Retry-After": clock.Now().Add(90 * time.Second).Format(http.TimeFormat)}, ``, func(t *testing.T, err error) {
			var rl *RateLimitError
			if !errors.As(err, &rl) || rl.RetryAfter != 90*time.Second {
				t.Errorf("err = %#v", err)
			}
		}},
		{"429 garbage", 429, map[string]string{"Retry-After": "soon"}, ``, func(t *testing.T, err error) {
			var rl *RateLimitError
			if !errors.As(err, &rl) || rl.RetryAfter != 0 {
				t.Errorf("err = %#v", err)
			}
		}},
		{"postgrest 400", 400, nil, `{"code":"22P02","message":"invalid input syntax for type uuid","details":"bad \"x\"","hint":"use a uuid"}`, func(t *testing.T, err error) {
			var api *APIError
			if !errors.As(err, &api) {
				t.Fatalf("err = %#v", err)
			}
			want := APIError{Op: "GET jobs", Status: 400, Code: "22P02", Message: "invalid input syntax for type uuid", Details: `bad "x"`, Hint: "use a uuid"}
			if *api != want {
				t.Errorf("err = %+v, want %+v", *api, want)
			}
			for _, s := range []string{"400", "22P02", "invalid input syntax", "use a uuid"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q lacks %q", err, s)
				}
			}
			if Retryable(err) || errors.Is(err, ErrNetwork) {
				t.Error("400 treated as retryable")
			}
		}},
		{"500 text", 503, nil, "upstream down", func(t *testing.T, err error) {
			var api *APIError
			if !errors.As(err, &api) || api.Status != 503 || api.Message != "upstream down" {
				t.Errorf("err = %#v", err)
			}
			if !Retryable(err) {
				t.Error("503 not retryable")
			}
		}},
		{"bad json on 200", 200, nil, `{"not":"an array"`, func(t *testing.T, err error) {
			if err == nil || Retryable(err) || !strings.Contains(err.Error(), "decode") {
				t.Errorf("err = %v", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestREST(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}, RESTOptions{Clock: clock})
			var rows []any
			err := c.Select(context.Background(), "jobs", nil, &rows)
			if err == nil {
				t.Fatal("no error")
			}
			tc.check(t, err)
		})
	}
}

func TestNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	url := srv.URL
	srv.Close()
	c, err := NewREST(url, "k", RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var rows []any
	err = c.Select(context.Background(), "jobs", nil, &rows)
	var ne *NetworkError
	if !errors.Is(err, ErrNetwork) || !errors.As(err, &ne) || !Retryable(err) {
		t.Errorf("err = %#v, want a network error", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = c.Select(ctx, "jobs", nil, &rows)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrNetwork) || Retryable(err) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func TestRetryOnlyRetryable(t *testing.T) {
	for _, tc := range []struct {
		name      string
		statuses  []int // answers in turn; 0 = hang up (network error)
		wantCalls int
		wantErr   bool
		wantWaits []time.Duration
	}{
		{"ok first", []int{200}, 1, false, nil},
		{"5xx then ok", []int{503, 500, 200}, 3, false, []time.Duration{time.Second, 2 * time.Second}},
		{"429 honours retry-after", []int{429, 200}, 2, false, []time.Duration{5 * time.Second}},
		{"network then ok", []int{0, 200}, 2, false, []time.Duration{time.Second}},
		{"400 never retried", []int{400, 200}, 1, true, nil},
		{"404 never retried", []int{404, 200}, 1, true, nil},
		{"401 never retried", []int{401, 200}, 1, true, nil},
		{"gives up", []int{502, 502, 502, 502}, 3, true, []time.Duration{time.Second, 2 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			c := newTestREST(t, func(w http.ResponseWriter, r *http.Request) {
				i := int(calls.Add(1)) - 1
				status := tc.statuses[min(i, len(tc.statuses)-1)]
				switch status {
				case 0:
					hj, _ := w.(http.Hijacker)
					conn, _, _ := hj.Hijack()
					conn.Close()
					return
				case 429:
					w.Header().Set("Retry-After", "5")
				}
				w.WriteHeader(status)
				io.WriteString(w, `[]`)
			}, RESTOptions{})
			clock := newInstantClock()
			err := Retry(context.Background(), RetryPolicy{MaxAttempts: 3, Clock: clock}, func(ctx context.Context) error {
				var rows []any
				return c.Select(ctx, "jobs", nil, &rows)
			})
			if (err != nil) != tc.wantErr {
				t.Errorf("err = %v, want error %v", err, tc.wantErr)
			}
			if n := int(calls.Load()); n != tc.wantCalls {
				t.Errorf("%d attempts, want %d", n, tc.wantCalls)
			}
			waits := clock.Waits()
			if len(waits) != len(tc.wantWaits) {
				t.Fatalf("waits = %v, want %v", waits, tc.wantWaits)
			}
			for i := range waits {
				if waits[i] != tc.wantWaits[i] {
					t.Errorf("waits = %v, want %v", waits, tc.wantWaits)
				}
			}
		})
	}
}

func TestRetryStopsWhenCancelled(t *testing.T) {
	clock := newFakeClock()
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	done := make(chan error, 1)
	go func() {
		done <- Retry(ctx, RetryPolicy{MaxAttempts: 10, Clock: clock}, func(context.Context) error {
			calls.Add(1)
			return &APIError{Status: 500}
		})
	}()
	waitForWaiter(t, clock, "first backoff", func(d time.Duration) bool { return d == time.Second })
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Retry did not return after cancel")
	}
	if calls.Load() != 1 {
		t.Errorf("%d calls, want 1", calls.Load())
	}
}

func TestBackoffDelay(t *testing.T) {
	half := func() float64 { return 0.5 }
	for _, tc := range []struct {
		b       Backoff
		attempt int
		want    time.Duration
	}{
		{Backoff{}, 0, time.Second},
		{Backoff{}, 1, 2 * time.Second},
		{Backoff{}, 5, 32 * time.Second},
		{Backoff{}, 6, 60 * time.Second},
		{Backoff{}, 1000, 60 * time.Second},
		{Backoff{Jitter: time.Second, Rand: half}, 0, 1500 * time.Millisecond},
		{Backoff{Jitter: time.Second, Rand: half}, 9, 60*time.Second + 500*time.Millisecond},
		{Backoff{Initial: 5 * time.Second, Max: 5 * time.Minute}, 3, 40 * time.Second},
		{Backoff{Initial: 5 * time.Second, Max: 5 * time.Minute}, 10, 5 * time.Minute},
		{Backoff{Initial: 100 * time.Millisecond, Multiplier: 3}, 2, 900 * time.Millisecond},
		{Backoff{Jitter: time.Second, Rand: func() float64 { return 7 }}, 0, time.Second},
	} {
		if got := tc.b.Delay(tc.attempt); got != tc.want {
			t.Errorf("%+v.Delay(%d) = %v, want %v", tc.b, tc.attempt, got, tc.want)
		}
	}
	b := Backoff{Jitter: time.Second}
	for range 100 {
		if d := b.Delay(0); d < time.Second || d >= 2*time.Second {
			t.Fatalf("jittered delay %v outside [1s,2s)", d)
		}
	}
}
