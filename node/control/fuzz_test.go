package control

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// FuzzRequestBodies sends arbitrary bodies to every endpoint that reads
// one, with a valid key: the API must answer without a server error, and
// a refused request must change nothing.
func FuzzRequestBodies(f *testing.F) {
	targets := []struct{ method, path string }{
		{"POST", "/api/v1/pause"}, {"POST", "/api/v1/resume"}, {"POST", "/api/v1/finish"}, {"POST", "/api/v1/unlink"},
		{"PATCH", "/api/v1/settings"}, {"POST", "/api/v1/session"}, {"POST", "/api/v1/session/link"}, {"POST", "/api/v1/update/check"},
		{"PUT", "/api/v1/update/automatic"},
	}
	for i, body := range []string{`{"now":true}`, `{}`, ``, `{"cores":2,"schedule":"mon-fri 18:00-08:00"}`, `{"key":"x"}`, `{"cores":1e400}`,
		`{"schedule":"\u0000"}`, `{"idle_minutes":"5","coresInUse":"0"}`, `{"now":1}`, "\xff\xfe", `{"pauseOnBattery":"maybe"}`} {
		f.Add(uint8(i), []byte(body))
	}
	a := startAPI(f, nil)
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		tg := targets[int(which)%len(targets)]
		before := a.node.Calls()
		settings := a.node.gov.Settings()
		req := httptest.NewRequest(tg.method, tg.path, bytes.NewReader(body))
		req.Host = "127.0.0.1"
		req.Header.Set(keyHeader, a.srv.Key())
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		a.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", tg.method, tg.path, body, rec.Code, rec.Body)
		}
		if rec.Code == http.StatusOK {
			if err := a.node.gov.Settings().Validate(); err != nil {
				t.Fatalf("%q left invalid settings: %v", body, err)
			}
			return
		}
		after := a.node.Calls()
		// A settings request reaches the node to be validated there; it
		// must leave the settings as they were.
		if tg.path == "/api/v1/settings" {
			if !a.node.gov.Settings().Equal(settings) {
				t.Fatalf("refused %q (%d) changed the settings", body, rec.Code)
			}
			return
		}
		if !slices.Equal(before, after) {
			t.Fatalf("refused %s %q (%d) reached the node: %v", tg.path, body, rec.Code, after[len(before):])
		}
	})
}
