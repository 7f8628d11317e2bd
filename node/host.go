package node

import (
	"os"
	"runtime"

	"wowlab/internal/cpuinfo"
	"wowlab/protocol"
)

// Host describes the machine a node registers with.
type Host struct {
	Hostname     string // default node name
	TotalCores   int    // logical CPUs
	EnabledCores int    // cores the node simulates on
	Platform     string // PROTOCOL spelling, e.g. linux-x86_64
}

// DetectHost inspects this machine. enabled > 0 overrides the default number
// of enabled cores (it is capped at the total).
func DetectHost(enabled int) Host {
	name, err := os.Hostname()
	if err != nil || name == "" {
		name = "My Node"
	}
	h := Host{
		Hostname:     name,
		TotalCores:   cpuinfo.Logical(),
		EnabledCores: cpuinfo.DefaultEnabled(),
		Platform:     protocol.Platform(runtime.GOOS, runtime.GOARCH),
	}
	if enabled > 0 {
		h.EnabledCores = min(enabled, h.TotalCores)
	}
	return h
}

// RegisterRequest returns the body of POST /nodes/register for this host.
func (h Host) RegisterRequest(version string) protocol.RegisterRequest {
	return protocol.RegisterRequest{
		Hostname:     h.Hostname,
		TotalCores:   h.TotalCores,
		EnabledCores: h.EnabledCores,
		Platform:     h.Platform,
		Version:      version,
	}
}
