package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"wowlab/internal/cli"
	"wowlab/protocol"
	"wowlab/sentinel"
	"wowlab/sentinel/gateway"
)

// client calls a sentinel's user REST surface.
type client struct {
	base    string
	token   string
	anonKey string
	http    *http.Client
}

// jobRow is the part of a jobs row the CLI shows.
type jobRow struct {
	ID                  string          `json:"id"`
	Status              string          `json:"status"`
	TotalIterations     int             `json:"total_iterations"`
	CompletedIterations int             `json:"completed_iterations"`
	Result              json.RawMessage `json:"result"`
	Error               *string         `json:"error"`
}

func (c *client) do(ctx context.Context, method, path string, body []byte, out any) error {
	if c.token == "" {
		return cli.Usagef("--token (or WOWLAB_TOKEN) is required")
	}
	if c.anonKey == "" {
		return cli.Usagef("--anon-key (or WOWLAB_ANON_KEY) is required: ask the operator for 'sentinel keys anon'")
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.base, "/")+path, bytes.NewReader(body))
	if err != nil {
		return cli.Usagef("bad --server %q: %v", c.base, err)
	}
	req.Header.Set("apikey", c.anonKey)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Prefer", "return=representation")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the sentinel at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e gateway.RESTError
		if json.Unmarshal(raw, &e) == nil && e.Message != "" {
			return fmt.Errorf("sentinel refused (%d): %s", resp.StatusCode, e.Message)
		}
		return fmt.Errorf("sentinel answered %s", resp.Status)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

func (c *client) job(ctx context.Context, id string) (jobRow, error) {
	var rows []jobRow
	if err := c.do(ctx, "GET", "/rest/v1/jobs?id=eq."+url.QueryEscape(id)+"&select=id,status,total_iterations,completed_iterations,result,error", nil, &rows); err != nil {
		return jobRow{}, err
	}
	if len(rows) == 0 {
		return jobRow{}, fmt.Errorf("job %s not found", id)
	}
	return rows[0], nil
}

// progress asks the sentinel how far a job is and why it waits.
func (c *client) progress(ctx context.Context, id string) (sentinel.JobProgress, error) {
	body, err := json.Marshal(map[string]string{"p_job_id": id})
	if err != nil {
		return sentinel.JobProgress{}, err
	}
	var p sentinel.JobProgress
	err = c.do(ctx, "POST", "/rest/v1/rpc/job_progress", body, &p)
	return p, err
}

// waitFlags are the settings of waiting for a job.
type waitFlags struct {
	wait    bool
	timeout time.Duration
}

func addWaitFlags(cmd *cobra.Command, w *waitFlags) {
	cmd.Flags().BoolVar(&w.wait, "wait", false, "wait for the result, showing progress (and why no node takes the job, while none may), and print it")
	cmd.Flags().DurationVar(&w.timeout, "timeout", 0, "with --wait: give up after this long and exit 1 (0: wait as long as it takes)")
}

func runSubmit(cmd *cobra.Command, o *options, configFile string, iterations int, access string, w waitFlags) error {
	if configFile == "" || iterations <= 0 {
		return cli.Usagef("--config and a positive --iterations are required")
	}
	if w.timeout < 0 {
		return cli.Usagef("--timeout must not be negative")
	}
	cfg, err := os.ReadFile(configFile)
	if err != nil {
		return cli.Usagef("read config: %v", err)
	}
	if !json.Valid(cfg) {
		return cli.Usagef("config %s is not valid JSON", configFile)
	}
	body, err := json.Marshal(sentinel.JobRequest{Config: cfg, Iterations: iterations, AccessType: access})
	if err != nil {
		return err
	}
	c := o.client()
	ctx := cmd.Context()
	var created sentinel.JobCreated
	if err := c.do(ctx, "POST", "/rest/v1/rpc/create_job", body, &created); err != nil {
		return err
	}
	if !w.wait {
		return printJSON(cmd.OutOrStdout(), created)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "job %s: %d chunks\n", created.JobID, created.Chunks)
	return waitJob(cmd, c, created.JobID, w.timeout)
}

// pollInterval is how often a waiting command asks for progress.
const pollInterval = time.Second

// waitJob follows a job until it ends and prints its result: a progress
// bar on a terminal, and whenever it changes, why no node takes the job.
// After timeout (when not zero) it gives up with an error.
func waitJob(cmd *cobra.Command, c *client, id string, timeout time.Duration) error {
	ctx := cmd.Context()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	stderr := cmd.ErrOrStderr()
	var bar *progressbar.ProgressBar
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	said := ""
	var last sentinel.JobProgress
	for {
		p, err := c.progress(ctx, id)
		if err != nil {
			if ctx.Err() == context.DeadlineExceeded {
				return timedOut(id, timeout, last)
			}
			return err
		}
		last = p
		if p.Waiting != said {
			if bar != nil {
				_ = bar.Clear()
			}
			if p.Waiting != "" {
				fmt.Fprintf(stderr, "waiting: %s\n", p.Waiting)
			} else {
				fmt.Fprintln(stderr, "a node may take the job now")
			}
			said = p.Waiting
		}
		if bar == nil {
			if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				bar = progressbar.NewOptions(p.TotalIterations, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription("iterations"),
					progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("it"), progressbar.OptionThrottle(100*time.Millisecond))
			}
		}
		if bar != nil {
			_ = bar.Set(p.CompletedIterations)
		}
		switch p.Status {
		case protocol.StatusCompleted:
			if bar != nil {
				_ = bar.Finish()
				fmt.Fprintln(stderr)
			}
			j, err := c.job(ctx, id)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), j.Result)
		case protocol.StatusFailed:
			if bar != nil {
				fmt.Fprintln(stderr)
			}
			return fmt.Errorf("job %s failed: %s", p.ID, p.Error)
		}
		select {
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return timedOut(id, timeout, last)
			}
			return ctx.Err()
		case <-t.C:
		}
	}
}

// timedOut is the error of a wait that ran out of time.
func timedOut(id string, timeout time.Duration, p sentinel.JobProgress) error {
	msg := fmt.Sprintf("job %s is not done after %v (%s, %d of %d iterations)", id, timeout, p.Status, p.CompletedIterations, p.TotalIterations)
	if p.Waiting != "" {
		msg += ": " + p.Waiting
	}
	return errors.New(msg)
}

// client returns a REST client of the user flags.
func (o *options) client() *client {
	return &client{base: o.server, token: o.token, anonKey: o.anonKey, http: http.DefaultClient}
}
