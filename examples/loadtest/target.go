package main

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// errNotLoopback is returned for a target, or a connection, that is not on
// the loopback interface. The generator is a tool for measuring one's own
// server on one's own machine; it must never become a flooding tool
// pointed at someone else's.
var errNotLoopback = errors.New("loadtest: only loopback targets are allowed (127.0.0.0/8, ::1, localhost)")

// parseTarget checks that raw is an http or https URL of the form
// scheme://host[:port][/] whose host is localhost, an IPv4 address in
// 127.0.0.0/8 or the IPv6 loopback ::1, and returns it without the
// trailing slash. Host names other than localhost are refused without a
// DNS lookup, and so are the spellings of addresses that only some parsers
// accept (127.1, 2130706433, 0x7f.0.0.1), IPv4-mapped IPv6 addresses, zones
// and the unspecified addresses 0.0.0.0 and ::.
func parseTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("loadtest: -target is not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("loadtest: -target must start with http:// or https://")
	}
	if u.Opaque != "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, errors.New("loadtest: -target must be scheme://host[:port], without user, path, query or fragment")
	}
	if !isLoopbackHost(u.Hostname()) {
		return nil, errNotLoopback
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// isLoopbackHost reports whether host (without port or brackets) is
// localhost or a loopback address in its canonical spelling.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" || a.Is4In6() {
		return false
	}
	return a.IsLoopback()
}

// dialLoopbackOnly is a net.Dialer Control function: it refuses to connect
// to any address that is not loopback. It is the second lock behind
// parseTarget, for what the URL check cannot see: a "localhost" that
// resolves elsewhere. (The client never follows redirects and never uses
// a proxy, so the target is the only host it dials.)
func dialLoopbackOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return errNotLoopback
	}
	return nil
}
