package node

import (
	"encoding/json"
	"math"
	"time"
	"wowlab/internal/clock"

	"github.com/maypok86/otter/v2"
)

// Cache sizes, in bytes of the cached documents, and lifetimes. Bytes, not
// entries: one REST answer may be 32 MiB, so a count of entries would not
// bound the memory.
const (
	ConfigCacheBytes   = 64 << 20
	RotationCacheBytes = 16 << 20
	CacheTTL           = time.Hour
)

// Rotation is a rotations row as the node reads it.
type Rotation struct {
	ID       string `json:"id"`
	Script   string `json:"script"`
	Checksum string `json:"checksum"`
}

// Cache keeps configs by hash (they are immutable, content-addressed) and
// rotation scripts by id (kept only while their checksum matches). Entries
// expire CacheTTL after they were written. It is safe for concurrent use.
type Cache struct {
	configs   *otter.Cache[string, json.RawMessage]
	rotations *otter.Cache[string, Rotation]
}

// otterClock adapts a Clock to otter's clock. It sends no ticks: expired
// entries are dropped when read or evicted, not by a background sweep.
type otterClock struct{ c clock.Clock }

func (o otterClock) NowNano() int64                      { return o.c.Now().UnixNano() }
func (o otterClock) Tick(time.Duration) <-chan time.Time { return nil }

// NewCache returns an empty cache whose expiry follows clk (nil: system clock).
func NewCache(clk clock.Clock) *Cache {
	var oc otter.Clock
	if clk != nil {
		oc = otterClock{clk}
	}
	return &Cache{
		configs: otter.Must(&otter.Options[string, json.RawMessage]{
			MaximumWeight:    ConfigCacheBytes,
			Weigher:          func(hash string, c json.RawMessage) uint32 { return weight(len(hash) + len(c)) },
			ExpiryCalculator: otter.ExpiryWriting[string, json.RawMessage](CacheTTL),
			Clock:            oc,
		}),
		rotations: otter.Must(&otter.Options[string, Rotation]{
			MaximumWeight:    RotationCacheBytes,
			Weigher:          func(id string, r Rotation) uint32 { return weight(len(id) + len(r.Script) + len(r.Checksum)) },
			ExpiryCalculator: otter.ExpiryWriting[string, Rotation](CacheTTL),
			Clock:            oc,
		}),
	}
}

// weight is an entry's size for the caches; never 0, which otter would
// not count.
func weight(n int) uint32 { return uint32(min(max(n, 1), math.MaxUint32)) }

// Config returns the cached config with this hash.
func (c *Cache) Config(hash string) (json.RawMessage, bool) {
	return c.configs.GetIfPresent(hash)
}

// SetConfig stores a config under its hash.
func (c *Cache) SetConfig(hash string, config json.RawMessage) {
	c.configs.Set(hash, config)
}

// Rotation returns the cached script of rotation id when its checksum is
// still checksum; a cached script with another checksum is dropped.
func (c *Cache) Rotation(id, checksum string) (string, bool) {
	r, ok := c.rotations.GetIfPresent(id)
	if !ok {
		return "", false
	}
	if r.Checksum != checksum {
		c.rotations.Invalidate(id)
		return "", false
	}
	return r.Script, true
}

// SetRotation stores a rotation by id.
func (c *Cache) SetRotation(r Rotation) {
	c.rotations.Set(r.ID, r)
}
