package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"wowlab/examples"
	"wowlab/protocol"
	"wowlab/sentinel"
	"wowlab/sentinel/store"
)

// page is what every page template gets.
type page struct {
	Title  string
	Nav    string // the section: nodes, jobs, rotations
	User   *store.User
	CSRF   string
	Notice string // a message about what just happened
	Error  string // a refusal to show
	Digest string // stateDigest of the signed-in user when rendered
	Data   any
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// render writes a page with status.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t, ok := c.pages[name]
	if !ok {
		c.internal(w, r, fmt.Errorf("no page %q", name))
		return
	}
	if s := sessionOf(r); s.user.ID != "" {
		p.User = &s.user
		d, err := c.stateDigest(r.Context(), s.user.ID)
		if err != nil {
			c.internal(w, r, err)
			return
		}
		p.Digest = d
	}
	p.CSRF = c.csrfToken(w, r)
	if p.Notice == "" {
		p.Notice = r.URL.Query().Get("notice")
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		c.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// refusal answers a refused request with a page saying why.
func (c *Console) refusal(w http.ResponseWriter, r *http.Request, status int, msg string) {
	c.render(w, r, status, "refused", page{Title: "Refused", Error: msg})
}

// internal answers an internal error; the error goes to the log only.
func (c *Console) internal(w http.ResponseWriter, r *http.Request, err error) {
	c.log.Error("console request failed", "path", r.URL.Path, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// failure answers a service error: a refusal with its message, anything
// else as internal.
func (c *Console) failure(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusBadRequest
	switch sentinel.KindOf(err) {
	case 0:
		c.internal(w, r, err)
		return
	case sentinel.KindUnauthorized:
		status = http.StatusUnauthorized
	case sentinel.KindForbidden:
		status = http.StatusForbidden
	case sentinel.KindNotFound:
		status = http.StatusNotFound
	case sentinel.KindConflict:
		status = http.StatusConflict
	case sentinel.KindTooMany:
		status = http.StatusTooManyRequests
	}
	c.refusal(w, r, status, err.Error())
}

// back redirects to path with a notice.
func back(w http.ResponseWriter, r *http.Request, path, notice string) {
	if notice != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "notice=" + url.QueryEscape(notice)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

func (c *Console) serveRoot(w http.ResponseWriter, r *http.Request) {
	if _, err := c.readSession(r); err == nil {
		http.Redirect(w, r, "/console/jobs", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}

// ---- signing in ----

// safeNext is a local path to return to after signing in, or the jobs.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/console/jobs"
	}
	return next
}

type signInData struct {
	Next  string
	Claim bool // signing in to claim a node
}

func (c *Console) serveSignIn(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	c.render(w, r, http.StatusOK, "signin", page{Title: "Sign in", Data: signInData{Next: next, Claim: strings.HasPrefix(next, ClaimPath)}})
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	u, err := c.svc.AuthenticateUser(r.Context(), strings.TrimSpace(r.PostFormValue("token")))
	if sentinel.KindOf(err) == sentinel.KindUnauthorized {
		c.render(w, r, http.StatusUnauthorized, "signin", page{Title: "Sign in", Error: "That token is not a user token of this sentinel. Ask the operator for yours ('sentinel users add').",
			Data: signInData{Next: next, Claim: strings.HasPrefix(next, ClaimPath)}})
		return
	}
	if err != nil {
		c.internal(w, r, err)
		return
	}
	exp := c.clock.Now().Add(c.ttl)
	v, err := c.sessionValue(u.ID, exp)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	http.SetCookie(w, c.cookie(r, sessionCookie, v, exp))
	c.newCSRF(w, r) // a fresh token for the session
	c.log.Info("console: signed in", "user", u.ID)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	for _, name := range []string{sessionCookie, csrfCookie} {
		ck := c.cookie(r, name, "", time.Time{})
		ck.MaxAge = -1
		http.SetCookie(w, ck)
	}
	http.Redirect(w, r, "/console/signin?notice="+url.QueryEscape("Signed out."), http.StatusSeeOther)
}

// ---- claiming ----

type claimData struct {
	Code string
	Node *sentinel.ClaimableNode
}

func (c *Console) serveClaim(w http.ResponseWriter, r *http.Request) {
	code := strings.TrimSpace(r.URL.Query().Get("code"))
	d := claimData{Code: code}
	p := page{Title: "Claim a node", Nav: "nodes", Data: &d}
	if code != "" {
		n, err := c.svc.VerifyClaimCode(r.Context(), sentinel.CodeCheck{UserID: sessionOf(r).user.ID, Address: c.svc.ClientAddress(r), Code: code})
		switch {
		case sentinel.KindOf(err) != 0:
			p.Error = err.Error()
		case err != nil:
			c.internal(w, r, err)
			return
		default:
			d.Node = &n
		}
	}
	c.render(w, r, http.StatusOK, "claim", p)
}

func (c *Console) claim(w http.ResponseWriter, r *http.Request) {
	req := sentinel.ClaimRequest{UserID: sessionOf(r).user.ID, Code: strings.TrimSpace(r.PostFormValue("code")), Address: c.svc.ClientAddress(r)}
	if name := r.PostFormValue("name"); strings.TrimSpace(name) != "" {
		req.Name = &name
	}
	n, err := c.svc.ClaimNode(r.Context(), req)
	if sentinel.KindOf(err) != 0 {
		c.render(w, r, http.StatusBadRequest, "claim", page{Title: "Claim a node", Nav: "nodes", Error: err.Error(), Data: &claimData{Code: req.Code}})
		return
	}
	if err != nil {
		c.internal(w, r, err)
		return
	}
	back(w, r, "/console/nodes", fmt.Sprintf("Node %q is yours. It comes online within seconds.", n.Name))
}

// ---- nodes ----

type nodeView struct {
	store.Node
	Speed    float64 // iterations per second over the last minute
	LastSeen string
}

// speedWindow is the time over which a node's speed is measured.
const speedWindow = time.Minute

func (c *Console) serveNodes(w http.ResponseWriter, r *http.Request) {
	ns, err := c.svc.UserNodes(r.Context(), sessionOf(r).user.ID)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	now := c.clock.Now()
	views := make([]nodeView, len(ns))
	for i, n := range ns {
		views[i] = nodeView{Node: n, LastSeen: ago(now, n.LastSeenAt)}
		if n.Status == "online" {
			if views[i].Speed, err = c.speed(r, n.ID, now); err != nil {
				c.internal(w, r, err)
				return
			}
		}
	}
	c.render(w, r, http.StatusOK, "nodes", page{Title: "My nodes", Nav: "nodes", Data: views})
}

// speed is the iterations a node completed over the last speedWindow, per
// second, read as the node itself may read its chunks.
func (c *Console) speed(r *http.Request, nodeID string, now time.Time) (float64, error) {
	raw, err := c.store.Select(r.Context(), store.Query{Table: "jobs_chunks", Columns: []string{"iterations"}, Limit: store.MaxRows,
		Access: store.Access{Role: store.AccessNode, NodeID: nodeID},
		Filters: []store.Filter{
			{Column: "node_id", Op: store.OpEq, Values: []string{nodeID}},
			{Column: "status", Op: store.OpEq, Values: []string{protocol.StatusCompleted}},
			{Column: "completed_at", Op: store.OpGt, Values: []string{now.Add(-speedWindow).UTC().Format(time.RFC3339Nano)}},
		}})
	if err != nil {
		return 0, fmt.Errorf("read node speed: %w", err)
	}
	var rows []struct {
		Iterations int `json:"iterations"`
	}
	if err := json.Unmarshal(raw, &rows); err != nil {
		return 0, fmt.Errorf("read node speed: %w", err)
	}
	total := 0
	for _, row := range rows {
		total += row.Iterations
	}
	return float64(total) / speedWindow.Seconds(), nil
}

// ago says how long ago t was, or "never".
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t).Round(time.Second)
	switch {
	case d < 2*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func (c *Console) updateNode(w http.ResponseWriter, r *http.Request) {
	var set sentinel.NodeSettings
	if name := r.PostFormValue("name"); name != "" {
		set.Name = &name
	}
	if v := r.PostFormValue("max_parallel"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			c.refusal(w, r, http.StatusBadRequest, fmt.Sprintf("Max parallel must be a whole number, not %q.", v))
			return
		}
		set.MaxParallel = &n
	}
	n, err := c.svc.UpdateNode(r.Context(), sessionOf(r).user.ID, r.PathValue("id"), set)
	if err != nil {
		c.failure(w, r, err)
		return
	}
	back(w, r, "/console/nodes", fmt.Sprintf("Saved %q: max parallel %d.", n.Name, n.MaxParallel))
}

func (c *Console) removeNode(w http.ResponseWriter, r *http.Request) {
	if err := c.svc.RemoveNode(r.Context(), sessionOf(r).user.ID, r.PathValue("id")); err != nil {
		c.failure(w, r, err)
		return
	}
	back(w, r, "/console/nodes", "Node removed. If it still runs, it registers again with a new claim code.")
}

// ---- jobs ----

// jobRow is a jobs row as the console reads it.
type jobRow struct {
	ID                  string              `json:"id"`
	Status              string              `json:"status"`
	TotalIterations     int                 `json:"total_iterations"`
	CompletedIterations int                 `json:"completed_iterations"`
	Result              *protocol.JobResult `json:"result"`
	Error               *string             `json:"error"`
	CreatedAt           time.Time           `json:"created_at"`
	CompletedAt         *time.Time          `json:"completed_at"`
	AccessType          string              `json:"access_type"`
	ConfigHash          string              `json:"config_hash"`
}

// jobView is a job as the pages show it.
type jobView struct {
	jobRow
	Name    string // from the config: the character's name and spec
	Percent int
	Wall    string
	Waiting string
	CSRF    string // the form token of the page showing it
}

const jobColumns = "id,status,total_iterations,completed_iterations,result,error,created_at,completed_at,access_type,config_hash"

// jobs reads the user's jobs, newest first, or the one with id.
func (c *Console) jobs(r *http.Request, id string, limit int) ([]jobView, error) {
	u := sessionOf(r).user
	q := store.Query{Table: "jobs", Columns: strings.Split(jobColumns, ","), Limit: limit,
		Access: store.Access{Role: store.AccessUser, UserID: u.ID},
		Orders: []store.Order{{Column: "created_at", Desc: true}}}
	if id != "" {
		q.Filters = []store.Filter{{Column: "id", Op: store.OpEq, Values: []string{id}}}
	}
	raw, err := c.store.Select(r.Context(), q)
	var qe *store.QueryError
	if errors.As(err, &qe) {
		return nil, nil // a malformed id names no job
	}
	if err != nil {
		return nil, fmt.Errorf("read jobs: %w", err)
	}
	var rows []jobRow
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("read jobs: %w", err)
	}
	names, err := c.configNames(r, rows)
	if err != nil {
		return nil, err
	}
	views := make([]jobView, len(rows))
	for i, j := range rows {
		v := jobView{jobRow: j, Name: names[j.ConfigHash]}
		if j.TotalIterations > 0 {
			v.Percent = j.CompletedIterations * 100 / j.TotalIterations
		}
		if j.CompletedAt != nil {
			v.Wall = j.CompletedAt.Sub(j.CreatedAt).Round(100 * time.Millisecond).String()
		}
		views[i] = v
	}
	return views, nil
}

// configNames names the configs of jobs by their character and spec.
func (c *Console) configNames(r *http.Request, rows []jobRow) (map[string]string, error) {
	names := map[string]string{}
	var hashes []string
	for _, j := range rows {
		if _, ok := names[j.ConfigHash]; !ok {
			names[j.ConfigHash] = ""
			hashes = append(hashes, j.ConfigHash)
		}
	}
	if len(hashes) == 0 {
		return names, nil
	}
	raw, err := c.store.Select(r.Context(), store.Query{Table: "jobs_configs", Columns: []string{"hash", "config"}, Limit: store.MaxRows,
		Access:  store.Access{Role: store.AccessUser, UserID: sessionOf(r).user.ID},
		Filters: []store.Filter{{Column: "hash", Op: store.OpIn, Values: hashes}}})
	if err != nil {
		return nil, fmt.Errorf("read configs: %w", err)
	}
	var cfgs []struct {
		Hash   string `json:"hash"`
		Config struct {
			Player struct {
				Name string `json:"name"`
				Spec string `json:"spec"`
			} `json:"player"`
		} `json:"config"`
	}
	if err := json.Unmarshal(raw, &cfgs); err != nil {
		return nil, fmt.Errorf("read configs: %w", err)
	}
	for _, cf := range cfgs {
		spec := strings.ReplaceAll(cf.Config.Player.Spec, "_", " ")
		if cf.Config.Player.Name == "" {
			names[cf.Hash] = spec
		} else {
			names[cf.Hash] = cf.Config.Player.Name + " (" + spec + ")"
		}
	}
	return names, nil
}

// submitForm is the job form as sent, shown again when refused.
type submitForm struct {
	Example    string
	Config     string
	Iterations string
	Access     string
}

type jobsData struct {
	Jobs     []jobView
	Form     submitForm
	Examples []exampleChoice
}

type exampleChoice struct {
	Name, Label string
}

// exampleChoices are the bundled configs a user may submit as they are.
func exampleChoices() []exampleChoice {
	out := []exampleChoice{{"quick", "quick (bare BM hunter, 20 s)"}}
	for _, p := range examples.Profiles() {
		out = append(out, exampleChoice{p.Name, strings.ReplaceAll(p.Name, "_", " ") + " (TWW3 profile)"})
	}
	return out
}

// exampleConfig returns a bundled config by its choice name.
func exampleConfig(name string) ([]byte, bool) {
	if name == "quick" {
		return examples.Quick(0), true
	}
	p, ok := examples.LookupProfile(name)
	if !ok {
		return nil, false
	}
	b, err := examples.FS.ReadFile(p.File)
	return b, err == nil
}

func (c *Console) serveJobs(w http.ResponseWriter, r *http.Request) {
	c.renderJobs(w, r, http.StatusOK, submitForm{Example: "quick", Iterations: "10000", Access: sentinel.AccessPrivate}, "")
}

func (c *Console) renderJobs(w http.ResponseWriter, r *http.Request, status int, f submitForm, refusal string) {
	views, err := c.jobs(r, "", 50)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	for i := range views {
		if err := c.addWaiting(r, &views[i]); err != nil {
			c.internal(w, r, err)
			return
		}
		views[i].CSRF = c.csrfToken(w, r)
	}
	c.render(w, r, status, "jobs", page{Title: "My jobs", Nav: "jobs", Error: refusal, Data: jobsData{Jobs: views, Form: f, Examples: exampleChoices()}})
}

// addWaiting fills in why no node takes an unfinished job.
func (c *Console) addWaiting(r *http.Request, v *jobView) error {
	if v.Status != protocol.StatusPending && v.Status != protocol.StatusRunning {
		return nil
	}
	p, err := c.svc.Progress(r.Context(), sessionOf(r).user.ID, v.ID)
	if err != nil {
		return err
	}
	v.Waiting = p.Waiting
	return nil
}

func (c *Console) submitJob(w http.ResponseWriter, r *http.Request) {
	f := submitForm{Example: r.PostFormValue("example"), Config: r.PostFormValue("config"),
		Iterations: strings.TrimSpace(r.PostFormValue("iterations")), Access: r.PostFormValue("access")}
	var config []byte
	if file, _, err := r.FormFile("config_file"); err == nil {
		defer file.Close()
		config, err = io.ReadAll(io.LimitReader(file, sentinel.MaxConfigBytes+1))
		if err != nil {
			c.renderJobs(w, r, http.StatusBadRequest, f, "The uploaded file could not be read: "+err.Error())
			return
		}
	}
	switch {
	case len(bytes.TrimSpace(config)) > 0:
	case strings.TrimSpace(f.Config) != "":
		config = []byte(f.Config)
	case f.Example != "":
		b, ok := exampleConfig(f.Example)
		if !ok {
			c.renderJobs(w, r, http.StatusBadRequest, f, fmt.Sprintf("There is no bundled example %q.", f.Example))
			return
		}
		config = b
	default:
		c.renderJobs(w, r, http.StatusBadRequest, f, "Choose a bundled example, paste a config document or upload one.")
		return
	}
	n, err := strconv.Atoi(f.Iterations)
	if err != nil {
		c.renderJobs(w, r, http.StatusBadRequest, f, fmt.Sprintf("Iterations must be a whole number, not %q.", f.Iterations))
		return
	}
	if !json.Valid(config) {
		c.renderJobs(w, r, http.StatusBadRequest, f, "The config is not valid JSON.")
		return
	}
	created, err := c.svc.CreateJob(r.Context(), sessionOf(r).user.ID, sentinel.JobRequest{Config: config, Iterations: n, AccessType: f.Access})
	if sentinel.KindOf(err) != 0 {
		c.renderJobs(w, r, http.StatusBadRequest, f, "The job was not created: "+err.Error())
		return
	}
	if err != nil {
		c.internal(w, r, err)
		return
	}
	back(w, r, "/console/jobs", fmt.Sprintf("Job submitted: %d chunks.", created.Chunks))
}

type jobData struct {
	Job       jobView
	Histogram *histogram
}

func (c *Console) serveJob(w http.ResponseWriter, r *http.Request) {
	views, err := c.jobs(r, r.PathValue("id"), 1)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	if len(views) == 0 {
		c.refusal(w, r, http.StatusNotFound, "There is no such job of yours.")
		return
	}
	v := views[0]
	if err := c.addWaiting(r, &v); err != nil {
		c.internal(w, r, err)
		return
	}
	v.CSRF = c.csrfToken(w, r)
	d := jobData{Job: v}
	if v.Status == protocol.StatusCompleted {
		if d.Histogram, err = c.chunkHistogram(r, v.ID); err != nil {
			c.internal(w, r, err)
			return
		}
	}
	c.render(w, r, http.StatusOK, "job", page{Title: "Job " + v.ID[:8], Nav: "jobs", Data: d})
}

func (c *Console) cancelJob(w http.ResponseWriter, r *http.Request) {
	if err := c.svc.CancelJob(r.Context(), sessionOf(r).user.ID, r.PathValue("id")); err != nil {
		c.failure(w, r, err)
		return
	}
	back(w, r, "/console/jobs", "Job cancelled.")
}

// ---- templates ----

// pageNames are the templates/*.html pages; layout.html frames each, and
// parts.html holds what several share.
var pageNames = []string{"signin", "claim", "nodes", "jobs", "job", "rotations", "rotation", "refused"}

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"dps":   func(v float64) string { return thousands(int64(v + 0.5)) },
		"count": func(v int) string { return thousands(int64(v)) },
		"speed": func(v float64) string { return thousands(int64(v + 0.5)) },
		"short": func(id string) string { return id[:min(8, len(id))] },
		"when":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"deref": func(s *string) string {
			if s == nil {
				return ""
			}
			return *s
		},
		"ended": func(status string) bool { return status == protocol.StatusCompleted || status == protocol.StatusFailed },
	}
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: parse %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// thousands writes n with thin spaces between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune('\u2009')
		}
		b.WriteRune(d)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
