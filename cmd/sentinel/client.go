package main

import (
	"bytes"
	"context"
	"encoding/json"
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
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the sentinel at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e gateway.RESTError
		if json.Unmarshal(raw, &e) == nil && e.Message != "" {
			return fmt.Errorf("sentinel refused (%d): %s", resp.StatusCode, e.Message)
		}
		return fmt.Errorf("sentinel answered %s", resp.Status)
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

func runSubmit(cmd *cobra.Command, o *options, configFile string, iterations int, access string, wait bool) error {
	if configFile == "" || iterations <= 0 {
		return cli.Usagef("--config and a positive --iterations are required")
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
	c := &client{base: o.server, token: o.token, anonKey: o.anonKey, http: http.DefaultClient}
	ctx := cmd.Context()
	var created sentinel.JobCreated
	if err := c.do(ctx, "POST", "/rest/v1/rpc/create_job", body, &created); err != nil {
		return err
	}
	if !wait {
		return printJSON(cmd.OutOrStdout(), created)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "job %s: %d chunks\n", created.JobID, created.Chunks)
	var bar *progressbar.ProgressBar
	if f, ok := cmd.ErrOrStderr().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions(iterations, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription("iterations"), progressbar.OptionShowCount())
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		j, err := c.job(ctx, created.JobID)
		if err != nil {
			return err
		}
		if bar != nil {
			_ = bar.Set(j.CompletedIterations)
		}
		switch j.Status {
		case "completed":
			if bar != nil {
				_ = bar.Finish()
				fmt.Fprintln(cmd.ErrOrStderr())
			}
			return printJSON(cmd.OutOrStdout(), j.Result)
		case "failed":
			msg := "unknown error"
			if j.Error != nil {
				msg = *j.Error
			}
			return fmt.Errorf("job %s failed: %s", j.ID, msg)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
