package csrf_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/csrf"
)

// FuzzCheck compares the decision with net/http's CrossOriginProtection on
// arbitrary Sec-Fetch-Site, Origin and Host values. It must never panic,
// and it may allow a request the standard library rejects only where the
// package documents a normalization: the Origin fallback ignoring case and
// the default port of the Host.
func FuzzCheck(f *testing.F) {
	for _, tc := range checkCases {
		var s, o string
		host := "example.com"
		for _, kv := range tc.req.headers {
			switch kv[0] {
			case "Sec-Fetch-Site":
				s = kv[1]
			case "Origin":
				o = kv[1]
			case "Host":
				host = kv[1]
			}
		}
		f.Add(tc.req.method, s, o, host, !strings.HasPrefix(tc.req.target, "http://"))
	}
	m := csrf.MustNew(csrf.Options{})
	cop := http.NewCrossOriginProtection()
	f.Fuzz(func(t *testing.T, method, fetchSite, originValue, host string, tls bool) {
		if method == "" {
			method = "POST"
		}
		r := httptest.NewRequest("POST", "https://example.com/", nil)
		r.Method, r.Host = method, host
		if !tls {
			r.TLS = nil
		}
		if fetchSite != "" {
			r.Header["Sec-Fetch-Site"] = []string{fetchSite}
		}
		if originValue != "" {
			r.Header["Origin"] = []string{originValue}
		}
		ours, std := m.Check(r), cop.Check(r)
		if ours == nil && std != nil {
			u, err := url.Parse(originValue)
			if fetchSite != "" || err != nil {
				t.Fatalf("allowed %s with Sec-Fetch-Site %q, Origin %q, Host %q, which net/http rejects: %v", method, fetchSite, originValue, host, std)
			}
			h := strings.ToLower(host)
			h = strings.TrimSuffix(h, map[bool]string{true: ":443", false: ":80"}[tls])
			if u.Host != h {
				t.Fatalf("allowed Origin %q for Host %q, which net/http rejects", originValue, host)
			}
		}
	})
}

// FuzzToken sends arbitrary token values. Only a masking of the request's
// own token may pass.
func FuzzToken(f *testing.F) {
	ts := newTokenServer(f, csrf.TokenOptions{Key: key1, SessionID: sessionFromHeader}, csrf.Options{})
	s := [2]string{"X-Test-Session", "fuzz"}
	good, _ := ts.get(f, s)
	other, _ := ts.get(f, [2]string{"X-Test-Session", "other"})
	f.Add(good)
	f.Add(other)
	f.Add(flip(good))
	f.Add("")
	f.Add(strings.Repeat("A", 86))
	f.Add(good + "==")
	unmask := func(tok string) []byte {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) != 64 {
			return nil
		}
		out := make([]byte, 32)
		for i := range out {
			out[i] = raw[i] ^ raw[32+i]
		}
		return out
	}
	want := string(unmask(good))
	f.Fuzz(func(t *testing.T, tok string) {
		r := post(s)
		r.Header["X-Csrf-Token"] = []string{tok}
		code, _, _ := ts.do(r)
		if code == 200 && string(unmask(tok)) != want {
			t.Fatalf("accepted %q, which does not unmask to the session's token", tok)
		}
		if code != 200 && string(unmask(tok)) == want && len(tok) == 86 {
			t.Fatalf("rejected %q, a valid masking of the session's token: %v", tok, ts.err)
		}
	})
}

// FuzzMethodParam checks that a cross-site GET whose query carries a
// _method parameter, in any encoding url.ParseQuery decodes, is checked
// as unsafe, and that one without any parameter decoding to _method passes.
func FuzzMethodParam(f *testing.F) {
	for _, tc := range checkCases {
		if u, err := url.Parse(tc.req.target); err == nil && u.RawQuery != "" {
			f.Add(u.RawQuery)
		}
	}
	f.Add("_method=DELETE")
	f.Add("a=1&%5f%6Dethod=PUT")
	f.Add("payment_method=card")
	f.Add("_method")
	m := csrf.MustNew(csrf.Options{})
	f.Fuzz(func(t *testing.T, q string) {
		r := httptest.NewRequest("GET", "https://example.com/", nil)
		r.URL.RawQuery = q
		r.Header["Sec-Fetch-Site"] = []string{"cross-site"}
		err := m.Check(r)
		vals, _ := url.ParseQuery(q)
		if _, ok := vals["_method"]; ok && err == nil {
			t.Fatalf("query %q carries _method but the GET was not checked", q)
		}
		if err != nil && !strings.Contains(strings.ToLower(q), "method") && !strings.Contains(q, "%") {
			t.Fatalf("query %q was treated as an override", q)
		}
	})
}
