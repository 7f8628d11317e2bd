package update

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// DefaultFeed is where nodes look for releases unless told otherwise.
const DefaultFeed = "github:legacy3/wowlab"

// DefaultGitHubAPI is the GitHub REST API a "github:" feed asks.
const DefaultGitHubAPI = "https://api.github.com"

// maxIndexSize bounds a release list; GitHub's page of 30 releases with
// long notes is well below it.
const maxIndexSize = 8 << 20

// Release is one published release as a feed lists it.
type Release struct {
	Tag        string  // the tag as published ("node-v1.2.3")
	Version    string  // the version it names ("v1.2.3")
	Prerelease bool    // marked as a prerelease, or a prerelease version
	Notes      string  // release notes (Markdown)
	Assets     []Asset // the files of the release
}

// Asset is one file of a release.
type Asset struct {
	Name string // file name, such as "SHA256SUMS"
	URL  string // absolute download URL
	Size int64  // size announced by the feed, 0 when unknown
}

// asset returns the asset named name.
func (r Release) asset(name string) (Asset, bool) {
	for _, a := range r.Assets {
		if a.Name == name {
			return a, true
		}
	}
	return Asset{}, false
}

// Feed lists the published releases.
type Feed interface {
	// Releases returns every release the feed publishes, drafts left out.
	Releases(ctx context.Context, client *http.Client) ([]Release, error)
	// String names the feed for logs and status.
	String() string
}

// ParseFeed reads a feed as given by --feed or WOWLAB_UPDATE_FEED:
// "github:owner/name" for the GitHub releases of a repository, or an
// http(s) base URL holding releases.json and the release files. api is the
// GitHub API to ask ("" for DefaultGitHubAPI).
func ParseFeed(spec, api string) (Feed, error) {
	if repo, ok := strings.CutPrefix(spec, "github:"); ok {
		owner, name, ok := strings.Cut(repo, "/")
		if !ok || !validRepoPart(owner) || !validRepoPart(name) {
			return nil, fmt.Errorf("feed %q: want github:owner/name", spec)
		}
		if api == "" {
			api = DefaultGitHubAPI
		}
		base, err := parseHTTPURL(api)
		if err != nil {
			return nil, fmt.Errorf("GitHub API %q: %w", api, err)
		}
		return GitHub{API: base, Owner: owner, Repo: name}, nil
	}
	base, err := parseHTTPURL(spec)
	if err != nil {
		return nil, fmt.Errorf("feed %q: want github:owner/name or an http(s) base URL: %w", spec, err)
	}
	return BaseURL{URL: base}, nil
}

func validRepoPart(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func parseHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, errors.New("not an http(s) URL without credentials, query or fragment")
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

// GitHub is the releases of a GitHub repository, read from the REST API
// (GET /repos/{owner}/{repo}/releases, the newest 30).
type GitHub struct {
	API   *url.URL // API base, such as https://api.github.com/
	Owner string
	Repo  string
}

// String returns "github:owner/name".
func (g GitHub) String() string { return "github:" + g.Owner + "/" + g.Repo }

// Releases asks the API for the repository's releases.
func (g GitHub) Releases(ctx context.Context, client *http.Client) ([]Release, error) {
	u := g.API.JoinPath("repos", g.Owner, g.Repo, "releases")
	u.RawQuery = "per_page=30"
	return fetchReleases(ctx, client, u, func(r *http.Request) {
		r.Header.Set("Accept", "application/vnd.github+json")
		r.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	})
}

// BaseURL is a directory served over HTTP(S) that holds releases.json and
// the release files. releases.json has the shape of GitHub's release list
// (tag_name, prerelease, draft, body, assets with name,
// browser_download_url and size); asset URLs may be relative to it, as the
// release builder writes them, so a release directory can be served as it
// is.
type BaseURL struct {
	URL *url.URL // ends in "/"
}

// String returns the base URL.
func (b BaseURL) String() string { return b.URL.String() }

// Releases reads releases.json.
func (b BaseURL) Releases(ctx context.Context, client *http.Client) ([]Release, error) {
	return fetchReleases(ctx, client, b.URL.JoinPath(IndexFile), nil)
}

// ghRelease is the part of GitHub's release object the updater reads.
type ghRelease struct {
	TagName    string    `json:"tag_name"`
	Draft      bool      `json:"draft"`
	Prerelease bool      `json:"prerelease"`
	Body       string    `json:"body"`
	Assets     []ghAsset `json:"assets"`
}

type ghAsset struct {
	Name string `json:"name"`
	URL  string `json:"browser_download_url"`
	Size int64  `json:"size"`
}

func fetchReleases(ctx context.Context, client *http.Client, u *url.URL, prepare func(*http.Request)) ([]Release, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if prepare != nil {
		prepare(req)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("list releases: %s answered %s", u.Redacted(), resp.Status)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxIndexSize+1))
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	if len(raw) > maxIndexSize {
		return nil, fmt.Errorf("list releases: %s sent more than %d bytes", u.Redacted(), maxIndexSize)
	}
	return ParseReleases(raw, u)
}

// ParseReleases reads a release list in GitHub's JSON shape. Asset URLs
// are resolved against base. Drafts, releases whose tag names no version
// and assets without a plain file name or an http(s) URL are left out.
func ParseReleases(raw []byte, base *url.URL) ([]Release, error) {
	var list []ghRelease
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("release list: %w", err)
	}
	out := make([]Release, 0, len(list))
	for _, r := range list {
		v, ok := TagVersion(r.TagName)
		if r.Draft || !ok {
			continue
		}
		rel := Release{Tag: r.TagName, Version: v, Prerelease: r.Prerelease || isPrerelease(v), Notes: r.Body}
		for _, a := range r.Assets {
			if !validFileName(a.Name) || a.Size < 0 {
				continue
			}
			u, err := base.Parse(a.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				continue
			}
			rel.Assets = append(rel.Assets, Asset{Name: a.Name, URL: u.String(), Size: a.Size})
		}
		out = append(out, rel)
	}
	return out, nil
}

// validFileName accepts the names release files have: printable ASCII
// without path separators.
func validFileName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '/' || c == '\\' {
			return false
		}
	}
	return true
}
