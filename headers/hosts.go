package headers

import (
	"net/http"
	"strconv"

	"github.com/httpguard/httpguard/internal/hostport"
	"github.com/httpguard/httpguard/internal/hostset"
)

// compileHosts validates patterns: a host name, an IP literal (IPv6 with or
// without brackets) or "*." and a host name, each with an optional ":port".
// Host names must be ASCII: write internationalized names in their
// punycode A-label form (xn--…), which is what browsers send.
func compileHosts(patterns []string) (*hostset.Set, []error) {
	var errs []error
	hs := &hostset.Set{}
	for i, p := range patterns {
		host, port, wildcard, err := parsePattern(p)
		if err != nil {
			errs = append(errs, &OptionError{Field: "AllowedHosts[" + strconv.Itoa(i) + "]", Value: p, Err: err})
			continue
		}
		hs.Add(host, port, wildcard)
	}
	return hs, errs
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

// hostAllowed reports whether the Host of r is in c.hosts. A Host
// without a port is on the default port of the scheme r came over, which
// browsers leave out: "example.com" over HTTPS matches "example.com:443".
// (Found in review: such a pattern refused every browser's request.) The
// scheme is resolved only for a Host that did not match without it.
func (c *config) hostAllowed(r *http.Request) bool {
	if _, _, ok := c.hosts.Match(r.Host); ok {
		return true
	}
	def := "80"
	if c.opts.ClientIP.IsHTTPS(r) {
		def = "443"
	}
	_, _, ok := c.hosts.MatchDefault(r.Host, def)
	return ok
}
