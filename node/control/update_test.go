package control

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"wowlab/node/update"
)

// fakeUpdates is a checker whose check finds what the test set.
type fakeUpdates struct {
	mu     sync.Mutex
	status update.Status
	found  *update.Release
	checks int
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
}
