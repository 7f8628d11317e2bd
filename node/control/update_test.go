package control

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"wowlab/node/update"
)

// fakeUpdates is a checker whose check finds what the test set and
// whose switch fails with setErr when set.
type fakeUpdates struct {
	mu       sync.Mutex
	status   update.Status
	found    *update.Release
	checks   int
	switched []bool
	setErr   error
}

func (f *fakeUpdates) SetAutomatic(on bool) (update.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.setErr != nil {
		return f.status, f.setErr
	}
	f.switched = append(f.switched, on)
	f.status.Automatic = on
	f.status.Off = ""
	if !on {
		f.status.Off = update.OffByConfig
	}
	return f.status, nil
}

func (f *fakeUpdates) Status() update.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

func (f *fakeUpdates) CheckNow(context.Context) update.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks++
	f.status.Available, f.status.Checked = f.found, testStart
	return f.status
}

func TestUpdateStatusAndCheck(t *testing.T) {
	fu := &fakeUpdates{status: update.Status{Version: "1.2.3", Feed: "github:legacy3/wowlab", Automatic: true}}
	a := startAPI(t, func(o *Options) { o.Updates = fu })
	c := a.client()
	s, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Update == nil || s.Update.Version != "1.2.3" || s.Update.Available != nil || !s.Update.Automatic || !s.Update.Checked.IsZero() {
		t.Fatalf("status update %+v", s.Update)
	}
	fu.mu.Lock()
	fu.found = &update.Release{Version: "1.3.0", Tag: "v1.3.0", Notes: "faster"}
	fu.mu.Unlock()
	u, err := c.CheckUpdate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u.Available == nil || u.Available.Version != "1.3.0" || u.Available.Notes != "faster" || !u.Checked.Equal(testStart) || fu.checks != 1 {
		t.Fatalf("check %+v (checks %d)", u, fu.checks)
	}
	if s, _ := c.Status(context.Background()); s.Update == nil || s.Update.Available == nil {
		t.Fatalf("status after the check %+v", s.Update)
	}
	if resp, body := a.request("POST", "/api/v1/update/check", a.srv.Key(), `{"force":true}`, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown field: %d %s", resp.StatusCode, body)
	}
	if fu.checks != 1 {
		t.Fatalf("a refused request checked")
	}
}

func TestSetAutomaticUpdates(t *testing.T) {
	fu := &fakeUpdates{status: update.Status{Version: "1.2.3", Automatic: true, Switchable: true}}
	a := startAPI(t, func(o *Options) { o.Updates = fu })
	c := a.client()
	ctx := context.Background()
	u, err := c.SetAutomaticUpdates(ctx, false)
	if err != nil || u.Automatic || u.Off != update.OffByConfig || !u.Switchable {
		t.Fatalf("switched off: %+v, %v", u, err)
	}
	if s, err := c.Status(ctx); err != nil || s.Update == nil || s.Update.Automatic {
		t.Fatalf("status after switching off: %+v, %v", s.Update, err)
	}
	for _, body := range []string{`{}`, `{"automatic":"yes"}`, `{"automatic":true,"force":1}`, `[]`} {
		if resp, got := a.request("PUT", "/api/v1/update/automatic", a.srv.Key(), body, nil); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("body %s: %d %s", body, resp.StatusCode, got)
		}
	}
	fu.mu.Lock()
	fu.setErr = fmt.Errorf("%w: --no-update is set", update.ErrNotSwitchable)
	fu.mu.Unlock()
	var ae *APIError
	if _, err := c.SetAutomaticUpdates(ctx, true); !errors.As(err, &ae) || ae.Status != http.StatusConflict || !strings.Contains(ae.Message, "--no-update") {
		t.Fatalf("forced off: %v", err)
	}
	fu.mu.Lock()
	defer fu.mu.Unlock()
	if !slices.Equal(fu.switched, []bool{false}) {
		t.Fatalf("switched %v: refused requests must change nothing", fu.switched)
	}
}

func TestUpdateCheckWithoutUpdates(t *testing.T) {
	a := startAPI(t, nil)
	c := a.client()
	if s, err := c.Status(context.Background()); err != nil || s.Update != nil {
		t.Fatalf("status %+v %v", s.Update, err)
	}
	_, err := c.CheckUpdate(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Fatalf("check without updates: %v", err)
	}
	if _, err := c.SetAutomaticUpdates(context.Background(), true); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Fatalf("switch without updates: %v", err)
	}
}
