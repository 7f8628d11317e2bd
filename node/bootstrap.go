package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"

	"wowlab/protocol"
)

// maxBootstrapBody bounds the answer of GET /bootstrap.
const maxBootstrapBody = 64 << 10

// FetchBootstrap asks the sentinel at sentinelURL what a node needs to join
// it (GET /bootstrap, an extension): the REST and Realtime base URL, the
// anon key and the claim page. An answer that is not JSON in that shape,
// or holds an unusable URL or key, is an error.
func FetchBootstrap(ctx context.Context, hc *http.Client, sentinelURL string) (protocol.Bootstrap, error) {
	if hc == nil {
		hc = NewHTTPClient()
	}
	u := strings.TrimRight(sentinelURL, "/") + protocol.PathBootstrap
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return protocol.Bootstrap{}, fmt.Errorf("bootstrap: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return protocol.Bootstrap{}, &NetworkError{Path: protocol.PathBootstrap, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBootstrapBody+1))
	if err != nil {
		return protocol.Bootstrap{}, &NetworkError{Path: protocol.PathBootstrap, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return protocol.Bootstrap{}, fmt.Errorf("GET %s: %s (a sentinel without /bootstrap needs --api-url and --anon-key)", u, resp.Status)
	}
	if len(body) > maxBootstrapBody {
		return protocol.Bootstrap{}, fmt.Errorf("GET %s: answer larger than %d bytes", u, maxBootstrapBody)
	}
	var b protocol.Bootstrap
	if err := json.Unmarshal(body, &b); err != nil {
		return protocol.Bootstrap{}, fmt.Errorf("GET %s: not a bootstrap answer: %w", u, err)
	}
	if err := checkBootstrap(b); err != nil {
		return protocol.Bootstrap{}, fmt.Errorf("GET %s: %w", u, err)
	}
	b.APIURL, b.ClaimURL = strings.TrimRight(b.APIURL, "/"), strings.TrimRight(b.ClaimURL, "/")
	return b, nil
}

func checkBootstrap(b protocol.Bootstrap) error {
	if err := checkBaseURL("apiUrl", b.APIURL); err != nil {
		return err
	}
	if b.ClaimURL != "" {
		if err := checkBaseURL("claimUrl", b.ClaimURL); err != nil {
			return err
		}
	}
	switch {
	case b.AnonKey == "":
		return errors.New("no anonKey")
	case len(b.AnonKey) > 4096:
		return errors.New("anonKey longer than 4096 bytes")
	case strings.IndexFunc(b.AnonKey, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return errors.New("anonKey holds spaces or control characters")
	}
	return nil
}

// bootstrapNeeds says what this run takes from the sentinel's bootstrap.
type bootstrapNeeds struct {
	apiURL, anonKey bool // fill in: not given for this run, and the saved one is for another sentinel or missing
	wanted          bool // ask at all: something to fill in, or a self-hosted sentinel's claim page
}

// needsOf decides what a run with overrides o, the saved config and the
// effective one takes from the bootstrap. The project's own sentinel is
// not asked (it publishes none); a self-hosted one is, for its claim page
// at least.
func needsOf(o Overrides, saved, eff Config) bootstrapNeeds {
	moved := eff.SentinelURL != saved.SentinelURL
	selfHosted := strings.TrimRight(eff.SentinelURL, "/") != DefaultSentinelURL
	n := bootstrapNeeds{
		apiURL:  o.APIURL == "" && moved && selfHosted,
		anonKey: o.AnonKey == "" && selfHosted && (moved || eff.AnonKey == ""),
	}
	n.wanted = selfHosted
	return n
}

// bootstrap asks the sentinel for what this run needs, once per Run. A
// failure is an error only when something is missing without it.
func (c *Core) bootstrap(ctx context.Context) error {
	c.mu.Lock()
	need, sentinel := c.needs, c.config.SentinelURL
	c.mu.Unlock()
	if !need.wanted {
		return nil
	}
	b, err := FetchBootstrap(ctx, c.httpc, sentinel)
	if err != nil {
		if need.apiURL || need.anonKey {
			return fmt.Errorf("learn the API URL and anon key from the sentinel (or pass --api-url and --anon-key): %w", err)
		}
		c.log.Info("the sentinel publishes no claim page", "err", err)
		c.mu.Lock()
		c.needs = bootstrapNeeds{}
		c.mu.Unlock()
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if need.apiURL {
		c.config.APIURL = b.APIURL
	}
	if need.anonKey {
		c.config.AnonKey = b.AnonKey
	}
	c.claimURL = b.ClaimURL
	c.needs = bootstrapNeeds{}
	c.log.Info("joined through the sentinel's bootstrap", "sentinel", sentinel, "api_url", c.config.APIURL, "claim_url", b.ClaimURL)
	return nil
}
