package ratelimit_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/ratelimit"
)

func printableKey(t *testing.T, k string) {
	t.Helper()
	if len(k) > 160 {
		t.Fatalf("key of %d bytes", len(k))
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] >= 0x7f {
			t.Fatalf("key %q has byte %#x", k, k[i])
		}
	}
}

// FuzzIPKey checks the client address key against untrusted input: the
// peer address and forwarding headers.
func FuzzIPKey(f *testing.F) {
	for _, s := range []struct {
		remote, xff string
		v6          uint8
	}{
		{"192.0.2.1:1", "", 64},
		{"192.0.2.1:1", "203.0.113.5", 64},
		{"[2001:db8:1:2:3:4:5:6]:1", "", 64},
		{"[::ffff:192.0.2.1]:1", "", 48},
		{"[fe80::1%eth0]:1", "", 128},
		{"10.0.0.1:1", "198.51.100.7, 192.0.2.1", 64},
		{"10.0.0.1:1", "garbage, [2001:db8::1]:443", 56},
		{"10.0.0.1:1", strings.Repeat("10.0.0.2,", 100), 64},
		{"@unix", "192.0.2.1", 64},
		{"", "", 0},
	} {
		f.Add(s.remote, s.xff, s.v6)
	}
	trusting := clientip.MustNew(clientip.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	limits := []ratelimit.Limit{{Name: "l", Rate: 1, Period: time.Second}}
	f.Fuzz(func(t *testing.T, remote, xff string, v6 uint8) {
		bits := 24 + int(v6)%105
		direct, err := ratelimit.New(ratelimit.Options{Limits: limits, IPv6Prefix: bits})
		if err != nil {
			t.Fatal(err)
		}
		proxied, _ := ratelimit.New(ratelimit.Options{Limits: limits, IPv6Prefix: bits, ClientIP: trusting})
		plain := request("")
		plain.RemoteAddr = remote
		spoofed := request("", "X-Forwarded-For", xff)
		spoofed.RemoteAddr = remote
		k1, ok1 := ratelimit.KeyOf(direct, 0, plain)
		k2, ok2 := ratelimit.KeyOf(direct, 0, spoofed)
		if !ok1 || !ok2 || k1 != k2 {
			t.Fatalf("without trusted proxies X-Forwarded-For changed the key: %q vs %q", k1, k2)
		}
		k3, _ := ratelimit.KeyOf(proxied, 0, spoofed)
		for _, k := range []string{k1, k3} {
			printableKey(t, k)
			if !strings.HasPrefix(k, "l:ip:") {
				t.Fatalf("key %q", k)
			}
		}
		// Grouping: every address of the network has the network's key.
		if ap, err := netip.ParseAddrPort(remote); err == nil {
			a := ap.Addr().Unmap().WithZone("")
			pb := bits
			if a.Is4() {
				pb = 32
			}
			p, _ := a.Prefix(pb)
			other := request(netip.AddrPortFrom(p.Addr(), 9).String())
			if k, _ := ratelimit.KeyOf(direct, 0, other); k != k1 {
				t.Fatalf("%s and %s, in one /%d, have keys %q and %q", a, p.Addr(), pb, k1, k)
			}
			if want := ratelimit.NetworkKey(a, 32, bits); "l:"+want != k1 {
				t.Fatalf("key %q, network %q", k1, want)
			}
			c1, _ := ratelimit.MemKeyOf(direct, 0, plain)
			c2, _ := ratelimit.MemKeyOf(direct, 0, other)
			if c1 != c2 {
				t.Fatalf("memory keys of %s and %s differ", a, p.Addr())
			}
		}
		// The hash of the memory store is as discriminating as the text
		// form: equal for the same network, different otherwise.
		c1, _ := ratelimit.MemKeyOf(direct, 0, plain)
		ref := request("192.0.2.1:1")
		kr, _ := ratelimit.KeyOf(direct, 0, ref)
		cr, _ := ratelimit.MemKeyOf(direct, 0, ref)
		if (k1 == kr) != (c1 == cr) {
			t.Fatalf("text keys %q, %q and memory keys %x, %x disagree", k1, kr, c1, cr)
		}
	})
}

// FuzzMemoryKey checks the hashes by which a MemoryStore knows client
// networks against their text keys: two Middlewares share one store and a
// limit name, each with its own prefix lengths, and two requests get one
// budget in the store exactly when their text keys are equal.
func FuzzMemoryKey(f *testing.F) {
	for _, s := range []struct {
		a, b               string
		v4a, v4b, v6a, v6b uint8
	}{
		{"192.0.2.1:1", "192.0.2.1:2", 32, 32, 64, 64},
		{"192.0.2.0:1", "192.0.2.0:1", 24, 32, 64, 64},
		{"192.0.2.1:1", "192.0.2.200:1", 24, 24, 64, 64},
		{"[2001:db8::]:1", "[2001:db8::]:1", 32, 32, 64, 128},
		{"[2001:db8::1]:1", "[2001:db8::2]:1", 32, 32, 128, 128},
		{"[2001:db8::1]:1", "[2001:db8:0:1::]:1", 32, 32, 128, 128},
		{"[2001:db8::]:1", "[2001:db8::]:1", 32, 32, 48, 64},
		{"192.0.2.1:1", "192.0.2.1:1", 32, 32, 48, 64},
		{"@", "@", 8, 32, 24, 128},
		{"@", "0.0.0.0:1", 32, 32, 64, 64},
		{"[::ffff:192.0.2.1]:1", "192.0.2.1:1", 32, 32, 64, 64},
		{"[fe80::1%eth0]:1", "[fe80::1]:2", 32, 32, 128, 128},
	} {
		f.Add(s.a, s.b, s.v4a, s.v4b, s.v6a, s.v6b)
	}
	// One store for every input: the hashes depend on its seed, not on
	// its entries, and making one per input would halve the rate.
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, a, b string, v4a, v4b, v6a, v6b uint8) {
		mk := func(v4, v6 uint8) *ratelimit.Middleware {
			m, err := ratelimit.New(ratelimit.Options{
				Limits:     []ratelimit.Limit{{Name: "l", Rate: 1, Period: time.Second}},
				Store:      store,
				IPv4Prefix: 8 + int(v4)%25,
				IPv6Prefix: 24 + int(v6)%105,
			})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		ma, mb := mk(v4a, v6a), mk(v4b, v6b)
		ra, rb := request(a), request(b)
		ta, _ := ratelimit.KeyOf(ma, 0, ra)
		tb, _ := ratelimit.KeyOf(mb, 0, rb)
		ha, _ := ratelimit.MemKeyOf(ma, 0, ra)
		hb, _ := ratelimit.MemKeyOf(mb, 0, rb)
		if (ta == tb) != (ha == hb) {
			t.Fatalf("text keys %q and %q, memory keys %x and %x", ta, tb, ha, hb)
		}
	})
}

// FuzzSubjectKey checks keys built from identity subjects, which may hold
// anything an identity provider put there: bounded, printable, and
// distinct subjects never share a key.
func FuzzSubjectKey(f *testing.F) {
	for _, s := range [][2]string{
		{"alice", "bob"},
		{"alice", "Alice"},
		{"a{b}", "a b"},
		{strings.Repeat("x", 64), strings.Repeat("x", 65)},
		{"#abc", "abc"},
		{"\x00", ""},
		{"ünïcode", "unicode"},
	} {
		f.Add(s[0], s[1])
	}
	m, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{{Name: "l", Rate: 1, Period: time.Second, Key: ratelimit.BySubject()}}})
	if err != nil {
		f.Fatal(err)
	}
	keyOf := func(subject string) string {
		r := request("192.0.2.1:1")
		r = r.WithContext(identity.NewContext(r.Context(), identity.New(identity.Options{Subject: subject})))
		k, _ := ratelimit.KeyOf(m, 0, r)
		return k
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ka, kb := keyOf(a), keyOf(b)
		printableKey(t, ka)
		printableKey(t, kb)
		if (a == b) != (ka == kb) {
			t.Fatalf("subjects %q and %q have keys %q and %q", a, b, ka, kb)
		}
		if a == "" && !strings.HasPrefix(ka, "l:ip:") {
			t.Fatalf("an empty subject is keyed %q, want the address", ka)
		}
	})
}

// FuzzAPIKeyKey checks the key of ByAPIKey on Authorization, a header any
// client sets: it is printable and bounded, Basic credentials (as
// net/http's Request.BasicAuth reads them, or in any other spacing and
// case) never reach a stored key, and two values share a key exactly
// when they carry one credential: the scheme compared without case and
// the spaces after it skipped (RFC 9110 §11.4). On another header the
// value is the credential exactly as sent.
func FuzzAPIKeyKey(f *testing.F) {
	for _, s := range [][2]string{
		{"Bearer k1", "bearer  k1"},
		{"Bearer k1", "Bearer k2"},
		{"Basic YWxpY2U6c2VjcmV0", "bASIC   YWxpY2U6c2VjcmV0"},
		{"Basic", "basic "},
		{"Basic\tYWxpY2U6c2VjcmV0", "Basic YWxpY2U6c2VjcmV0 "},
		{"k1", " k1"},
		{"Bearer k1", "Bearer\tk1"},
		{"Bear\x00er k1", "Bear\x00er  k1"},
		{"hg_" + strings.Repeat("a", 16) + "_" + strings.Repeat("b", 52), ""},
		{strings.Repeat("k", 1025), "Bearer " + strings.Repeat("k", 1018)},
	} {
		f.Add(s[0], s[1])
	}
	limits := func(header string) []ratelimit.Limit {
		return []ratelimit.Limit{{Name: "l", Rate: 1, Period: time.Second, Key: ratelimit.ByAPIKey(header)}}
	}
	authz, err := ratelimit.New(ratelimit.Options{Limits: limits("Authorization")})
	if err != nil {
		f.Fatal(err)
	}
	plain, err := ratelimit.New(ratelimit.Options{Limits: limits("X-API-Key")})
	if err != nil {
		f.Fatal(err)
	}
	const tchars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	// credential is what a value of Authorization is keyed by: "" when by
	// address, and otherwise the scheme in lower case, one space and the
	// credentials, or the value as it is when it has no scheme.
	credential := func(v string) string {
		scheme, rest, ok := strings.Cut(v, " ")
		switch {
		case v == "":
			return ""
		case !ok || scheme == "" || strings.Trim(scheme, tchars) != "":
			return v
		case strings.EqualFold(scheme, "basic"):
			return ""
		}
		return strings.ToLower(scheme) + " " + strings.TrimLeft(rest, " ")
	}
	keyOf := func(t *testing.T, m *ratelimit.Middleware, header, v string) string {
		r := request("192.0.2.1:1")
		r.Header[header] = []string{v}
		k, ok := ratelimit.KeyOf(m, 0, r)
		if !ok {
			t.Fatalf("%q: the limit does not apply", v)
		}
		return k
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ka, kb := keyOf(t, authz, "Authorization", a), keyOf(t, authz, "Authorization", b)
		printableKey(t, ka)
		printableKey(t, kb)
		for _, c := range []struct{ v, k string }{{a, ka}, {b, kb}} {
			r := request("192.0.2.1:1")
			r.Header["Authorization"] = []string{c.v}
			if _, _, basic := r.BasicAuth(); (basic || credential(c.v) == "") != (c.k == "l:ip:192.0.2.1/32") {
				t.Fatalf("%q (Basic: %v) keyed %q", c.v, basic, c.k)
			}
		}
		ca, cb := credential(a), credential(b)
		if ca != "" && cb != "" && len(a) <= 1024 && len(b) <= 1024 && (ca == cb) != (ka == kb) {
			t.Fatalf("%q and %q (credentials %q and %q) keyed %q and %q", a, b, ca, cb, ka, kb)
		}
		pa, pb := keyOf(t, plain, "X-Api-Key", a), keyOf(t, plain, "X-Api-Key", b)
		if a != "" && b != "" && len(a) <= 1024 && len(b) <= 1024 && (a == b) != (pa == pb) {
			t.Fatalf("X-API-Key %q and %q keyed %q and %q", a, b, pa, pb)
		}
	})
}
