package https

import (
	"strings"

	"github.com/httpguard/httpguard/internal/hostport"
)

// parseHostPattern parses "name", "name:port", "[v6]", "::1" or
// "*.name[:port]"; for a wildcard, host is the suffix with its leading dot.
func parseHostPattern(p string) (host, port string, wildcard bool, err error) {
	switch {
	case p == "":
		return "", "", false, because(ErrHost, "empty")
	case p == "*":
		return "", "", false, because(ErrHost, `"*" would redirect to any host`)
	case strings.Contains(p, "://"):
		return "", "", false, because(ErrHost, "a host, not a URL: drop the scheme")
	}
	host, port, wildcard, reason := hostport.ParsePattern(p)
	if reason != "" {
		return "", "", false, because(ErrHost, reason)
	}
	return host, port, wildcard, nil
}
