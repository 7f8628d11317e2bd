package protocol

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary signed-request headers to Verify: it must
// never panic, every refusal must be a *VerifyError (its text is the 401
// body), and an accepted request is the one its key signed.
func FuzzVerify(f *testing.F) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	now := time.Unix(1_790_000_000, 0)
	good := Sign(key, now.Unix(), "POST", "/nodes/heartbeat", []byte(`{"nodeId":"x"}`))
	f.Add(good.Key, good.Timestamp, good.Signature, "POST", "/nodes/heartbeat", []byte(`{"nodeId":"x"}`))
	f.Add(good.Key, good.Timestamp, good.Signature, "POST", "/nodes/heartbeat", []byte(`{"nodeId":"y"}`))
	f.Add(good.Key, "-9223372036854775808", good.Signature, "GET", "/", []byte(nil))
	f.Add("", "", "", "", "", []byte(nil))
	f.Add("AAAA", "1790000000", "====", "POST", "/nodes/register", []byte("{}"))
	f.Fuzz(func(t *testing.T, k, ts, sig, method, path string, body []byte) {
		pub, err := Verify(Headers{Key: k, Timestamp: ts, Signature: sig}, method, path, body, now)
		if err != nil {
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Reason == "" {
				t.Fatalf("refusal %v is not a VerifyError with a reason", err)
			}
			return
		}
		if EncodePublicKey(pub) != k {
			t.Fatalf("accepted key %s, header %s", EncodePublicKey(pub), k)
		}
	})
}

// FuzzSummary merges chunk results that pass Validate: the job result must
// be finite, encodable as JSON, have its mean between its minimum and its
// maximum and a spread those allow.
func FuzzSummary(f *testing.F) {
	f.Add(1000, 35000.0, 900.0, 32000.0, 38000.0, 1000, 35100.0, 950.0, 31900.0, 38500.0)
	f.Add(1, 5.0, 0.0, 5.0, 5.0, 1, 5.0, 0.0, 5.0, 5.0)
	f.Add(2, 1e300, 1e300, 0.0, 1e308, 3, -1e300, 1e300, -1e308, 0.0)
	f.Fuzz(func(t *testing.T, n1 int, mean1, std1, min1, max1 float64, n2 int, mean2, std2, min2, max2 float64) {
		var s Summary
		for _, r := range []ChunkResult{
			{Iterations: n1, MeanDps: mean1, StdDps: std1, MinDps: min1, MaxDps: max1},
			{Iterations: n2, MeanDps: mean2, StdDps: std2, MinDps: min2, MaxDps: max2},
		} {
			if r.Validate(r.Iterations) != nil || r.Iterations > 1_000_000_000 {
				continue
			}
			s.Add(r)
		}
		res := s.Result()
		for _, v := range []float64{res.MeanDps, res.StdDps, res.MinDps, res.MaxDps} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("result %+v is not finite", res)
			}
		}
		if _, err := json.Marshal(res); err != nil {
			t.Fatalf("result %+v does not encode: %v", res, err)
		}
		if res.TotalIterations > 0 {
			tol := 1e-9 * max(math.Abs(res.MinDps), math.Abs(res.MaxDps))
			if res.MeanDps < res.MinDps-tol || res.MeanDps > res.MaxDps+tol {
				t.Fatalf("mean outside [min, max]: %+v", res)
			}
			// Pooling possible chunks gives a possible job: its variance
			// stays within the Bhatia-Davis bound of the merged range.
			if n := float64(res.TotalIterations); n > 1 {
				m := min(max(res.MeanDps, res.MinDps), res.MaxDps)
				bound := math.Sqrt((res.MaxDps-m)*(m-res.MinDps)*n/(n-1)) * (1 + 1e-6)
				if res.StdDps > bound+tol {
					t.Fatalf("std %g above the bound %g: %+v", res.StdDps, bound, res)
				}
			}
		}
	})
}

// FuzzChunkResult decodes results as a node's completion carries them: a
// result that decodes has every figure, and one that also passes Validate
// is finite, within range and encodes back to itself.
func FuzzChunkResult(f *testing.F) {
	for _, seed := range []string{
		`{"iterations":1000,"meanDps":100,"stdDps":5,"minDps":90,"maxDps":110}`,
		`{"iterations":1000}`,
		`{"iterations":1000,"meanDps":100,"stdDps":1e12,"minDps":100,"maxDps":100}`,
		`{"iterations":1,"meanDps":5,"stdDps":0,"minDps":5,"maxDps":5,"extra":[1,2]}`,
		`{"iterations":1000,"meanDps":null,"stdDps":0,"minDps":0,"maxDps":0}`,
		`null`, `[]`, `{"iterations":1e400}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r ChunkResult
		if err := json.Unmarshal(data, &r); err != nil {
			return
		}
		if r.Validate(r.Iterations) != nil {
			return
		}
		for _, v := range []float64{r.MeanDps, r.StdDps, r.MinDps, r.MaxDps} {
			if math.IsNaN(v) || v < 0 || v > MaxDps {
				t.Fatalf("%s accepted as %+v", data, r)
			}
		}
		if r.Iterations > 0 && (r.MinDps > r.MaxDps || r.StdDps > MaxStdDps(r.Iterations, r.MeanDps, r.MinDps, r.MaxDps)*(1+1e-6)+1e-9*r.MaxDps) {
			t.Fatalf("%s accepted as an impossible %+v", data, r)
		}
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back ChunkResult
		if err := json.Unmarshal(out, &back); err != nil || back != r {
			t.Fatalf("%+v encodes as %s, which decodes as %+v (%v)", r, out, back, err)
		}
	})
}
