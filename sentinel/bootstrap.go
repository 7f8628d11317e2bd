package sentinel

import (
	"net/http"
	"strings"

	"wowlab/protocol"
)

// Bootstrap answers GET /bootstrap (extension): what a node given only
// the sentinel's address needs to join. This sentinel serves REST and
// Realtime itself, so the API URL is its own base URL (Config.PublicURL,
// or base, the scheme and host a request came to); the claim page is
// base/claim.
func (s *Service) Bootstrap(base string) (protocol.Bootstrap, error) {
	if s.publicURL != "" {
		base = s.publicURL
	}
	key, err := AnonKey(s.secret, s.clock.Now())
	if err != nil {
		return protocol.Bootstrap{}, err
	}
	return protocol.Bootstrap{APIURL: base, AnonKey: key, ClaimURL: base + "/claim"}, nil
}

// requestBase returns the scheme and host a request came to, or "" when
// its Host is not a plain host[:port].
func requestBase(r *http.Request) string {
	host := r.Host
	if host == "" || strings.ContainsAny(host, "/\\?#@ \t\r\n") || !printableASCII(host) {
		return ""
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + host
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func (s *Service) serveBootstrap(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	base := requestBase(r)
	if base == "" && s.publicURL == "" {
		writeJSON(w, http.StatusBadRequest, protocol.ErrorResponse{Error: "the request's Host is not a host name"})
		return
	}
	b, err := s.Bootstrap(base)
	if err != nil {
		s.log.Error("bootstrap", "err", err)
		writeJSON(w, http.StatusInternalServerError, protocol.ErrorResponse{Error: "Internal error"})
		return
	}
	writeJSON(w, http.StatusOK, b)
}
