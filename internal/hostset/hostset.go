// Package hostset matches Host header values against a compiled list of
// allowed hosts: exact names or IP literals and "*." wildcards, each with
// any port or the ports listed. Packages headers (AllowedHosts) and https
// (the hosts a redirect keeps) share it, so that one list of hosts means
// the same thing to both. Patterns are parsed by the caller with
// hostport.ParsePattern, which reports errors in the caller's terms.
package hostset

import (
	"slices"
	"strings"

	"github.com/httpguard/httpguard/internal/hostport"
)

// maxHostPort bounds the Host values looked at: a DNS name of 253 bytes,
// a colon and a port.
const maxHostPort = 260

// Set is a compiled list of allowed hosts. The zero Set allows nothing.
// Add must not be called once the Set is in use; Match is safe for
// concurrent use.
type Set struct {
	exact     map[string]ports // normalized host → ports
	wildcards []wildcard       // "*.example.com" as suffix ".example.com"
}

type ports struct {
	any  bool
	list []string
}

func (p ports) add(port string) ports {
	if port == "" {
		return ports{any: true}
	}
	if !p.any {
		p.list = append(p.list, port)
	}
	return p
}

func (p ports) allows(port string) bool {
	if p.any {
		return true
	}
	return slices.Contains(p.list, port)
}

type wildcard struct {
	suffix string
	ports  ports
}

// Add allows host with port, "" for any port, as hostport.ParsePattern
// returns them: host is normalized, and for a wildcard it is the suffix
// with its leading dot, which matches proper subdomains only.
func (s *Set) Add(host, port string, isWildcard bool) {
	if isWildcard {
		for i := range s.wildcards {
			if s.wildcards[i].suffix == host {
				s.wildcards[i].ports = s.wildcards[i].ports.add(port)
				return
			}
		}
		s.wildcards = append(s.wildcards, wildcard{suffix: host, ports: ports{}.add(port)})
		return
	}
	if s.exact == nil {
		s.exact = make(map[string]ports)
	}
	s.exact[host] = s.exact[host].add(port)
}

// Len returns the number of distinct host patterns in s.
func (s *Set) Len() int { return len(s.exact) + len(s.wildcards) }

// Match reports whether the Host header value hostPort is allowed. It
// returns the normalized host, and whether an exact entry (rather than a
// wildcard) allowed it. Values longer than a host name and a port, and
// values hostport cannot split or normalize, are refused without further
// work. It allocates only to lower-case a host with upper-case letters or
// to write an IPv6 address in its canonical form, and once for a host two
// or more labels under a wildcard's domain (see hostport.SameOwner).
func (s *Set) Match(hostPort string) (host string, exact, ok bool) {
	return s.MatchDefault(hostPort, "")
}

// MatchDefault is Match for a request whose scheme's default port is
// defaultPort ("443" for https, "80" for http): a Host without a port,
// as browsers send for that port, is on it, and matches a pattern that
// lists it ("example.com:443"). With defaultPort "" it is Match, and a
// Host without a port matches patterns without ports only.
func (s *Set) MatchDefault(hostPort, defaultPort string) (host string, exact, ok bool) {
	if hostPort == "" || len(hostPort) > maxHostPort {
		return "", false, false
	}
	h, port, ok := hostport.Split(hostPort)
	if !ok {
		return "", false, false
	}
	if port == "" {
		port = defaultPort
	}
	host, ok = hostport.Normalize(h)
	if !ok {
		return "", false, false
	}
	if p, ok := s.exact[host]; ok && p.allows(port) {
		return host, true, true
	}
	for _, w := range s.wildcards {
		if len(host) > len(w.suffix) && strings.HasSuffix(host, w.suffix) && w.ports.allows(port) &&
			hostport.SameOwner(host, w.suffix[1:]) {
			return host, false, true
		}
	}
	return "", false, false
}
