package headers

import (
	"strconv"
	"strings"

	"github.com/httpguard/httpguard/internal/hostport"
)

// hostRules is a compiled list of allowed hosts. The zero value allows
// nothing; a nil *hostRules is not consulted.
type hostRules struct {
	exact     map[string]portRule // normalized host → ports
	wildcards []wildcardRule      // "*.example.com" as suffix ".example.com"
}

type portRule struct {
	any   bool
	ports []string
}

func (p portRule) allows(port string) bool {
	if p.any {
		return true
	}
	for _, q := range p.ports {
		if q == port {
			return true
		}
	}
	return false
}

type wildcardRule struct {
	suffix string
	ports  portRule
}

// compileHosts validates patterns: a host name, an IP literal (IPv6 with or
// without brackets) or "*." and a host name, each with an optional ":port".
// Host names must be ASCII: write internationalized names in their
// punycode A-label form (xn--…), which is what browsers send.
func compileHosts(patterns []string) (*hostRules, []error) {
	var errs []error
	hr := &hostRules{exact: make(map[string]portRule)}
	for i, p := range patterns {
		field := "AllowedHosts[" + strconv.Itoa(i) + "]"
		host, port, wildcard, err := parsePattern(p)
		if err != nil {
			errs = append(errs, &OptionError{Field: field, Value: p, Err: err})
			continue
		}
		if wildcard {
			idx := -1
			for j, w := range hr.wildcards {
				if w.suffix == host {
					idx = j
				}
			}
			if idx < 0 {
				hr.wildcards = append(hr.wildcards, wildcardRule{suffix: host})
				idx = len(hr.wildcards) - 1
			}
			hr.wildcards[idx].ports = addPort(hr.wildcards[idx].ports, port)
			continue
		}
		hr.exact[host] = addPort(hr.exact[host], port)
	}
	return hr, errs
}

func addPort(r portRule, port string) portRule {
	if port == "" {
		return portRule{any: true}
	}
	if !r.any {
		r.ports = append(r.ports, port)
	}
	return r
}

// parsePattern splits an allowed-host pattern. For a wildcard it returns
// the suffix including its leading dot.
func parsePattern(p string) (host, port string, wildcard bool, err error) {
	if p == "*" {
		return "", "", false, because(ErrHostPattern, `"*" allows every host; leave AllowedHosts empty instead`)
	}
	host, port, wildcard, reason := hostport.ParsePattern(p)
	if reason != "" {
		return "", "", false, because(ErrHostPattern, reason)
	}
	return host, port, wildcard, nil
}

// allowed reports whether the Host header value hostPort is allowed.
func (hr *hostRules) allowed(hostPort string) bool {
	if hostPort == "" || len(hostPort) > 260 {
		return false
	}
	h, port, ok := hostport.Split(hostPort)
	if !ok {
		return false
	}
	host, ok := hostport.Normalize(h)
	if !ok {
		return false
	}
	if r, ok := hr.exact[host]; ok && r.allows(port) {
		return true
	}
	for _, w := range hr.wildcards {
		if len(host) > len(w.suffix) && strings.HasSuffix(host, w.suffix) && w.ports.allows(port) {
			return true
		}
	}
	return false
}
