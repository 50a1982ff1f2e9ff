package session_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/session"
)

// FuzzCookieHeader sends arbitrary Cookie headers through the middleware:
// it never panics, never fails the request, and never yields a logged-in
// session (a forged token would need a 256-bit guess).
func FuzzCookieHeader(f *testing.F) {
	for _, s := range []string{
		"__Host-session=abc", "__Host-session=" + strings.Repeat("A", 43), "a=1; __Host-session=\"x\"",
		"__Host-session=;;;", "__Host-session", "\x00\xff", strings.Repeat("__Host-session=a;", 100),
	} {
		f.Add(s)
	}
	m := session.MustNew(session.Options{})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := identity.FromRequest(r); ok {
			w.WriteHeader(598)
		}
		if !session.FromRequest(r).IsNew() {
			w.WriteHeader(599)
		}
	}))
	f.Fuzz(func(t *testing.T, cookie string) {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header["Cookie"] = []string{cookie}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("status %d for Cookie %q", rec.Code, cookie)
		}
	})
}

// FuzzCookieValue checks the Cookie header parser: it returns the value
// of the first cookie called sid whose value is valid, as a plain reading
// of the header finds it, and net/http reads a cookie called sid of that
// value too; a header built from a valid value is always parsed back.
func FuzzCookieValue(f *testing.F) {
	f.Add("sid=abc", "abc")
	f.Add("a=1; sid=\"q\"", "v")
	f.Add(" sid=x ; sid=y", "z")
	f.Add("xsid=a; sid=b", "v")
	f.Add("sid=a b; sid=\"\"; sid=c", "v")
	f.Add("sid=0"+strings.Repeat(";", 3000)+"\x00\x00\v\x00;*", "v") // found by CI's fuzzing
	f.Add("sid=0"+strings.Repeat(";", 2999), "v")
	f.Fuzz(func(t *testing.T, header, value string) {
		got, ok := session.CookieValue(http.Header{"Cookie": {header}}, "sid")
		if ok && (got == "" || !strings.Contains(header, got) || strings.ContainsAny(got, "; \t\",\\")) {
			t.Errorf("CookieValue(%q) = %q", header, got)
		}
		want, wantOK := refCookieValue(header, "sid")
		if got != want || ok != wantOK {
			t.Errorf("CookieValue(%q) = %q, %v; the first valid sid cookie is %q, %v", header, got, ok, want, wantOK)
		}
		if ok {
			r := &http.Request{Header: http.Header{"Cookie": {header}}}
			if !slices.ContainsFunc(r.CookiesNamed("sid"), func(c *http.Cookie) bool { return c.Value == got }) {
				t.Errorf("CookieValue(%q) = %q, a sid cookie net/http does not read", header, got)
			}
		}
		valid := value != ""
		for i := 0; i < len(value); i++ {
			if c := value[i]; c <= 0x20 || c >= 0x7f || strings.IndexByte("\";,\\", c) >= 0 {
				valid = false
			}
		}
		if valid {
			got, ok := session.CookieValue(http.Header{"Cookie": {"x=1; sid=" + value + "; y=2"}}, "sid")
			if !ok || got != value {
				t.Errorf("round trip of %q = %q %v", value, got, ok)
			}
		}
	})
}

// refCookieValue is the documented rule, written apart from the
// implementation: the pairs of the header split at ";", each trimmed of
// spaces and tabs; the first whose name is name exactly and whose value,
// once a pair of surrounding double quotes is removed, is non-empty and
// made of RFC 6265 cookie-octets; none from a header of more than 3000
// pairs, as net/http reads none (CVE-2025-58186).
func refCookieValue(header, name string) (string, bool) {
	pairs := strings.Split(header, ";")
	if len(pairs) > 3000 {
		return "", false
	}
	for _, pair := range pairs {
		k, v, ok := strings.Cut(strings.Trim(pair, " \t"), "=")
		if !ok || k != name {
			continue
		}
		if len(v) >= 2 && strings.HasPrefix(v, "\"") && strings.HasSuffix(v, "\"") {
			v = v[1 : len(v)-1]
		}
		if v != "" && !strings.ContainsFunc(v, func(r rune) bool {
			return r <= 0x20 || r >= 0x7f || strings.ContainsRune("\";,\\", r)
		}) {
			return v, true
		}
	}
	return "", false
}

// FuzzCookieStoreDecode feeds arbitrary cookie values to a CookieStore:
// never a panic, never an error, never found (forging needs the keys);
// and any data committed is found back unchanged.
func FuzzCookieStoreDecode(f *testing.F) {
	cs := cookieStore(f, nil)
	ctx := context.Background()
	id := strings.Repeat("Q", 42) + "A"
	good, err := cs.Commit(ctx, session.Record{ID: id, Data: []byte("seed"), Expiry: time.Now().Add(time.Hour)})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{good, good[:len(good)/2], good + "A", "", "MTIzfA==", strings.Repeat("A", 5000)} {
		f.Add(s, []byte("data"))
	}
	// Records with the remember-me flag, with and without an identity, as
	// the data committed.
	f.Add(good, session.EncodeRememberSample())
	f.Add("", []byte{1, 0, 0, 2, 0})
	f.Fuzz(func(t *testing.T, token string, data []byte) {
		rec, found, err := cs.Find(ctx, token)
		if err != nil {
			t.Fatalf("Find error %v", err)
		}
		// Only a token this store issued (the seed, perhaps re-encoded
		// with equivalent base64) may be found; the fuzzing workers each
		// issue their own seed, with the same keys.
		if found && (rec.ID != id || string(rec.Data) != "seed") {
			t.Fatalf("forged token %q found: %q", token, rec.Data)
		}
		tok, err := cs.Commit(ctx, session.Record{ID: id, Data: data, Expiry: time.Now().Add(time.Hour)})
		if err != nil {
			if errors.Is(err, session.ErrTooLarge) {
				return
			}
			t.Fatal(err)
		}
		rec, found, err = cs.Find(ctx, tok)
		if err != nil || !found || rec.ID != id || !bytes.Equal(rec.Data, data) {
			t.Errorf("round trip: %v %v %q", found, err, rec.Data)
		}
	})
}

// FuzzRecord decodes arbitrary session records (what a compromised or
// corrupted store could return): never a panic, and whatever decodes
// encodes back to the same bytes.
func FuzzRecord(f *testing.F) {
	sample := session.EncodeSample()
	f.Add(sample)
	f.Add(sample[:len(sample)-1])
	f.Add([]byte{1, 0, 0, 0, 0})
	f.Add([]byte{1, 0, 0, 1, 1, 'a', 0, 0, 0, 0, 0})
	f.Add([]byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	// The remember-me flag (bit 1), alone, with an identity, and with an
	// unknown bit beside it.
	remember := session.EncodeRememberSample()
	f.Add(remember)
	f.Add(remember[:len(remember)-1])
	f.Add([]byte{1, 0, 0, 2, 0})
	f.Add([]byte{1, 0, 0, 3, 1, 'a', 0, 0, 0, 0, 0})
	f.Add([]byte{1, 0, 0, 6, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		again, ok := session.RoundTripRecord(data)
		if !ok {
			return
		}
		third, ok := session.RoundTripRecord(again)
		if !ok || !bytes.Equal(again, third) {
			t.Errorf("re-encoding is not stable:\n%x\n%x", again, third)
		}
	})
}

// FuzzSignerVerify: arbitrary tokens never verify and never panic; signed
// values come back unchanged.
func FuzzSignerVerify(f *testing.F) {
	s, err := session.NewSigner(session.SignerOptions{Keys: [][]byte{key(7)}, Purpose: "reset", MaxAge: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	good, _ := s.Sign([]byte("user-42"))
	for _, tok := range []string{good, good[1:], good + "\n", good[:10] + "\r\n" + good[10:], "", "|||", strings.Repeat("A", 5000)} {
		f.Add(tok, []byte("v"))
	}
	f.Fuzz(func(t *testing.T, token string, value []byte) {
		// Only a token signed here verifies (the seeds hold one, signed
		// in each process anew), and only in the spelling Sign gave it:
		// padded base64url, canonical to its last character.
		if v, err := s.Verify(token); err == nil {
			if string(v) != "user-42" {
				t.Fatalf("forged token verified: %q", v)
			}
			if raw, err := base64.URLEncoding.Strict().DecodeString(token); err != nil || base64.URLEncoding.EncodeToString(raw) != token {
				t.Fatalf("token %q verified in a spelling Sign never gives", token)
			}
		}
		tok, err := s.Sign(value)
		if err != nil {
			return
		}
		v, err := s.Verify(tok)
		if err != nil || !bytes.Equal(v, value) {
			t.Errorf("round trip: %q %v", v, err)
		}
	})
}

// FuzzValidID: ValidID accepts exactly the canonical base64url encodings
// of 32 bytes.
func FuzzValidID(f *testing.F) {
	f.Add(strings.Repeat("A", 43))
	f.Add(strings.Repeat("A", 42) + "B")
	f.Add(strings.Repeat("_", 43))
	f.Fuzz(func(t *testing.T, id string) {
		b, err := base64.RawURLEncoding.Strict().DecodeString(id)
		want := err == nil && len(b) == 32 && len(id) == session.IDLength
		if got := session.ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
		if _, ok := session.StorageKey(id); ok != want {
			t.Errorf("StorageKey(%q) ok = %v", id, ok)
		}
	})
}

// FuzzHardenCookie checks HardenCookie on arbitrary cookies: a cookie it
// accepts is Secure and HttpOnly, keeps the Partitioned attribute it was
// given, is SameSite=None if partitioned, fits in 4096 bytes, and its
// Set-Cookie line parses back with those attributes.
func FuzzHardenCookie(f *testing.F) {
	f.Add("__Host-widget", "1", "", "", int(http.SameSiteNoneMode), true, 0)
	f.Add("widget", "1", "/", "example.com", int(http.SameSiteNoneMode), true, -1)
	f.Add("widget", "1", "", "", 0, true, 0)
	f.Add("widget", "1", "", "", int(http.SameSiteLaxMode), true, 60)
	f.Add("prefs", "compact", "/app", "", int(http.SameSiteStrictMode), false, 0)
	f.Add("__Host-x", "1", "/a", "example.com", int(http.SameSiteDefaultMode), false, 0)
	f.Fuzz(func(t *testing.T, name, value, path, domain string, sameSite int, partitioned bool, maxAge int) {
		c := &http.Cookie{Name: name, Value: value, Path: path, Domain: domain, SameSite: http.SameSite(sameSite), Partitioned: partitioned, MaxAge: maxAge}
		if err := session.HardenCookie(c); err != nil {
			if !errors.Is(err, session.ErrCookie) {
				t.Fatalf("HardenCookie(%q) = %v, not an ErrCookie", name, err)
			}
			return
		}
		if !c.Secure || !c.HttpOnly || c.Partitioned != partitioned || partitioned && c.SameSite != http.SameSiteNoneMode {
			t.Fatalf("HardenCookie accepted %+v", c)
		}
		line := c.String()
		if len(line) > 4096 {
			t.Fatalf("HardenCookie accepted a cookie of %d bytes", len(line))
		}
		back, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("the Set-Cookie line %q of an accepted cookie does not parse: %v", line, err)
		}
		if back.Name != c.Name || back.Partitioned != partitioned || !back.Secure || !back.HttpOnly || back.SameSite != c.SameSite {
			t.Fatalf("the Set-Cookie line %q parses back as %+v", line, back)
		}
	})
}

// FuzzModifyResponse sends arbitrary backend Set-Cookie lines through
// ModifyResponse: it keeps every other line in order, and removes exactly
// the lines that set a cookie of the session's name, so a backend can
// neither replace the session cookie nor lose an unrelated cookie. Where
// net/http parses a line, its cookie name decides; a line it refuses (a
// value with a quote, say) is read by name alone, as browsers, which
// accept such values, read it (RFC 6265bis §5.6).
func FuzzModifyResponse(f *testing.F) {
	for _, s := range []string{
		"__Host-session=x; Path=/", " \t__Host-session =x", "__Host-session-legacy=1", "__host-session=1",
		"a=__Host-session=1", "__Host-session", "=__Host-session", "__Host-session=;", "a=1; __Host-session=2",
		"=__Host-session=x", " = __Host-session =x; Path=/a", "==__Host-session=x", "=a=1",
	} {
		f.Add(s, "b=2")
	}
	m := session.MustNew(session.Options{})
	name := m.CookieName()
	f.Fuzz(func(t *testing.T, line, other string) {
		if strings.ContainsAny(line+other, "\r\n") {
			t.Skip("no header line holds CR or LF")
		}
		res := &http.Response{Header: http.Header{"Set-Cookie": {other, line, other}}}
		if err := m.ModifyResponse(res); err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, v := range []string{other, line, other} {
			sets := false
			if c, err := http.ParseSetCookie(v); err == nil {
				sets = c.Name == name
			} else {
				pair, _, _ := strings.Cut(v, ";")
				k, val, ok := strings.Cut(pair, "=")
				if ok && strings.Trim(k, " \t") == "" {
					// A nameless cookie, sent as its value alone.
					k, _, ok = strings.Cut(strings.Trim(val, " \t"), "=")
				}
				sets = ok && strings.Trim(k, " \t") == name
			}
			if !sets {
				want = append(want, v)
			}
		}
		if got := res.Header["Set-Cookie"]; !slices.Equal(got, want) {
			t.Errorf("ModifyResponse(%q) kept %q, want %q", []string{other, line, other}, got, want)
		}
	})
}
