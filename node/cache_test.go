package node

import (
	"encoding/json"
	"fmt"
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

func TestCacheIsBounded(t *testing.T) {
	c := NewCache(nil)
	for i := 0; i < 3*ConfigCacheSize; i++ {
		c.SetConfig(fmt.Sprint(i), json.RawMessage(`{}`))
	}
	c.configs.CleanUp()
	if n := c.configs.EstimatedSize(); n > ConfigCacheSize {
		t.Fatalf("size %d > %d", n, ConfigCacheSize)
	}
}
