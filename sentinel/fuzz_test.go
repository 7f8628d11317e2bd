package sentinel

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"wowlab/protocol"
)

// FuzzNodeAPI posts arbitrary bodies, correctly signed by a claimed node,
// to every node API endpoint on a real database. Whatever the body, the
// answer is a success or a refusal the node can read (4xx with an "error"
// text), never a server error.
func FuzzNodeAPI(f *testing.F) {
	e := newEnv(f)
	u, _ := e.user("fuzz")
	n := e.onlineNode(u.ID, 4, 2)
	j := e.job(u.ID, 3000, "")
	e.schedule()
	chunk := e.chunks(j.JobID)[0].ID
	paths := []string{protocol.PathRegister, protocol.PathVerify, protocol.PathHeartbeat, protocol.PathToken,
		protocol.PathComplete, protocol.PathFail, protocol.PathRelease}
	for i, body := range []string{
		`{"hostname":"h","totalCores":8,"enabledCores":4,"platform":"linux-x86_64","version":"1.0.0"}`,
		``,
		`{"status":"online"}`,
		`{}`,
		`{"chunkId":"` + chunk + `","result":{"iterations":1000,"meanDps":5,"stdDps":1,"minDps":3,"maxDps":7}}`,
		`{"chunkId":"` + chunk + `","error":"engine: bad config"}`,
		`{"chunkId":"` + chunk + `"}`,
	} {
		f.Add(uint8(i), []byte(body))
	}
	for _, body := range []string{
		`{`, `[]`, `null`, `"x"`, `{"chunkId":"not-a-uuid"}`, `{"chunkId":42}`,
		`{"status":"asleep"}`, `{"totalCores":-1}`, `{"totalCores":1e400}`,
		`{"chunkId":"00000000-0000-0000-0000-000000000000","result":{"iterations":-5}}`,
		`{"chunkId":"` + chunk + `","result":{"iterations":1000,"meanDps":1e308,"stdDps":1e308,"minDps":0,"maxDps":1e308}}`,
		`{"chunkId":"` + chunk + `","error":"\u0000\ud800"}`,
		`{"hostname":"h\u0000","totalCores":8,"enabledCores":4,"platform":"linux\u0000","version":"1\u0000"}`,
		`{"hostname":"h","totalCores":8,"enabledCores":4,"platform":"\u001b[2J","version":"\u009b31m"}`,
		`{"chunkId":"` + chunk + `","result":{"iterations":1000}}`,
		`{"chunkId":"` + chunk + `","result":{"iterations":1000,"meanDps":100,"stdDps":1e12,"minDps":100,"maxDps":100}}`,
	} {
		for i := range paths {
			f.Add(uint8(i), []byte(body))
		}
	}
	handler := e.svc.Handler()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := paths[int(which)%len(paths)]
		// A new second per request: the same request twice in one second
		// would be refused as a replay.
		e.clock.Add(time.Second)
		h := protocol.Sign(n.key, e.clock.Now().Unix(), "POST", path, body)
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set(protocol.HeaderKey, h.Key)
		req.Header.Set(protocol.HeaderTimestamp, h.Timestamp)
		req.Header.Set(protocol.HeaderSignature, h.Signature)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 || rec.Code < 200 {
			t.Fatalf("POST %s %q: %d %s", path, body, rec.Code, rec.Body.Bytes())
		}
		var answer map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
			t.Fatalf("POST %s %q: answer %q is not a JSON object: %v", path, body, rec.Body.Bytes(), err)
		}
		if msg, _ := answer["error"].(string); rec.Code != http.StatusOK && msg == "" {
			t.Fatalf("POST %s %q: %d without an error text: %s", path, body, rec.Code, rec.Body.Bytes())
		}
	})
}
