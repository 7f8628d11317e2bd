package node

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"wowlab/internal/clock"
)

func TestCacheConfigExpiresAfterTTL(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	c := NewCache(clk)
	c.SetConfig("h1", json.RawMessage(`{"a":1}`))
	if v, ok := c.Config("h1"); !ok || string(v) != `{"a":1}` {
		t.Fatalf("hit = %s %v", v, ok)
	}
	clk.Advance(CacheTTL - time.Second)
	if _, ok := c.Config("h1"); !ok {
		t.Fatal("expired before TTL")
	}
	clk.Advance(2 * time.Second)
	if _, ok := c.Config("h1"); ok {
		t.Fatal("still present after TTL")
	}
}

func TestCacheRotationChecksum(t *testing.T) {
	c := NewCache(nil)
	c.SetRotation(Rotation{ID: "r1", Script: "old", Checksum: "c1"})
	if s, ok := c.Rotation("r1", "c1"); !ok || s != "old" {
		t.Fatalf("matching checksum: %q %v", s, ok)
	}
	if _, ok := c.Rotation("r1", "c2"); ok {
		t.Fatal("stale script returned for a new checksum")
	}
	if _, ok := c.Rotation("r1", "c1"); ok {
		t.Fatal("stale entry not dropped")
	}
}

// The caches are bounded by the bytes they hold, however large the
// documents the backend answers.
func TestCacheIsBounded(t *testing.T) {
	c := NewCache(nil)
	big := json.RawMessage(`"` + strings.Repeat("x", 4<<20) + `"`)
	for i := range 3 * ConfigCacheBytes / len(big) {
		c.SetConfig(fmt.Sprint(i), big)
		c.SetRotation(Rotation{ID: fmt.Sprint(i), Script: string(big)})
	}
	c.configs.CleanUp()
	c.rotations.CleanUp()
	if w := c.configs.WeightedSize(); w > ConfigCacheBytes {
		t.Fatalf("configs hold %d bytes, more than %d", w, ConfigCacheBytes)
	}
	if w := c.rotations.WeightedSize(); w > RotationCacheBytes {
		t.Fatalf("rotations hold %d bytes, more than %d", w, RotationCacheBytes)
	}
	c.SetConfig("small", json.RawMessage(`{}`))
	if _, ok := c.Config("small"); !ok {
		t.Fatal("a small config is not kept")
	}
}
