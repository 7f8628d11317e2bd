package sentinel

// Rate limits on what a caller may try: claim-code checks per user and per
// address, and new node registrations per address. Each key (a user id, an
// address) has its own token bucket; idle keys are forgotten.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/maypok86/otter/v2"
	"golang.org/x/time/rate"
)

// Rate is a limit of N events per Per: N may happen at once, after which
// one more is allowed every Per/N. The zero Rate allows nothing.
type Rate struct {
	N   int
	Per time.Duration
}

// ParseRate reads a Rate written "N/DURATION", for example "10/5m".
func ParseRate(s string) (Rate, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: write it N/DURATION, for example 10/5m", s)
	}
	count, err := strconv.Atoi(n)
	if err != nil || count < 1 {
		return Rate{}, fmt.Errorf("rate %q: N must be a whole number of at least 1", s)
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("rate %q: %q is not a positive duration", s, per)
	}
	return Rate{N: count, Per: d}, nil
}

// String writes r as ParseRate reads it, without zero units ("10/5m",
// not "10/5m0s").
func (r Rate) String() string {
	per := r.Per.String()
	if strings.HasSuffix(per, "m0s") {
		per = strings.TrimSuffix(per, "0s")
	}
	if strings.HasSuffix(per, "h0m") {
		per = strings.TrimSuffix(per, "0m")
	}
	return fmt.Sprintf("%d/%s", r.N, per)
}

// Default limits on guessing and registering.
var (
	// DefaultClaimChecksPerUser lets one user try this many claim codes.
	DefaultClaimChecksPerUser = Rate{N: 10, Per: 5 * time.Minute}
	// DefaultClaimChecksPerAddress lets one address try this many claim
	// codes, whichever users it holds tokens of.
	DefaultClaimChecksPerAddress = Rate{N: 30, Per: 5 * time.Minute}
	// DefaultRegistrationsPerAddress lets one address register this many
	// new nodes (a re-registration of a known key is not counted).
	DefaultRegistrationsPerAddress = Rate{N: 60, Per: time.Hour}
)

// maxLimiterKeys bounds the memory of one keyed limiter.
const maxLimiterKeys = 100_000

// keyedLimiter is a token bucket per key.
type keyedLimiter struct {
	r       Rate
	buckets *otter.Cache[string, *rate.Limiter]
}

func newKeyedLimiter(r Rate) *keyedLimiter {
	return &keyedLimiter{r: r, buckets: otter.Must(&otter.Options[string, *rate.Limiter]{
		MaximumSize: maxLimiterKeys,
		// A bucket idle for its whole period is full again: forgetting it
		// changes nothing.
		ExpiryCalculator: otter.ExpiryAccessing[string, *rate.Limiter](r.Per + time.Minute),
	})}
}

// take uses one event of key at now. When none is left it returns false
// and how long until one is.
func (l *keyedLimiter) take(key string, now time.Time) (bool, time.Duration) {
	if l.r.N < 1 || l.r.Per <= 0 {
		return false, time.Hour
	}
	lim, ok := l.buckets.GetIfPresent(key)
	if !ok {
		lim, _ = l.buckets.SetIfAbsent(key, rate.NewLimiter(rate.Every(l.r.Per/time.Duration(l.r.N)), l.r.N))
	}
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// tooMany is the refusal of a limited event, with when to try again.
func tooMany(wait time.Duration, format string, args ...any) error {
	wait = max(wait.Round(time.Second), time.Second)
	return &Error{Kind: KindTooMany, Message: fmt.Sprintf(format, args...) + fmt.Sprintf("; try again in %v", wait), RetryAfter: wait}
}

// RetryAfterSeconds is the Retry-After header value for a refusal of kind
// KindTooMany: whole seconds, at least 1.
func (e *Error) RetryAfterSeconds() string {
	return strconv.Itoa(int(max((e.RetryAfter+time.Second-1)/time.Second, 1)))
}

// withAddress notes the caller's address in ctx for the per-address limits.
func withAddress(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, addressCtx, addr)
}

// addressOf is the address withAddress noted, or "".
func addressOf(ctx context.Context) string {
	a, _ := ctx.Value(addressCtx).(string)
	return a
}

// ClientAddress returns the key per-address limits use for a request: the
// caller's IP address, taken from the header named in Config.ClientIPHeader
// (its last entry) when set and present, else from the connection. An IPv6
// address stands for its /64 network, which one subscriber usually holds
// whole.
func (s *Service) ClientAddress(r *http.Request) string {
	raw := ""
	if s.clientIPHeader != "" {
		if v := r.Header.Values(s.clientIPHeader); len(v) > 0 {
			parts := strings.Split(v[len(v)-1], ",")
			raw = strings.TrimSpace(parts[len(parts)-1])
		}
	}
	if raw == "" {
		raw = r.RemoteAddr
		if host, _, err := net.SplitHostPort(raw); err == nil {
			raw = host
		}
	}
	ip, err := netip.ParseAddr(strings.Trim(raw, "[]"))
	if err != nil {
		return raw
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.Prefix(64)
	return p.String()
}
