package csrf_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
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

// countingBody is a request body that counts the bytes read from it.
type countingBody struct {
	r io.Reader
	n int
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += n
	return n, err
}

func (b *countingBody) Close() error { return nil }

// FuzzTokenForm sends unsafe requests in token mode with arbitrary bodies
// and Content-Types, through the form step that takes the token field out
// of the urlencoded form of a request that passed without it (and through
// the form read of one that needs its token from the form). "$T" in the
// body stands for a valid token. It must never panic; the handler's
// parsed form never holds the token field; a request that did not need
// its token from the form reaches the handler with r.Body giving exactly
// the bytes sent, and its body is not even read when it is over
// MaxFormBytes or of unknown length; a form that needs its token and is
// over MaxFormBytes is refused; and the decision is the one taken for the
// same request of unknown length, which the form step leaves alone. The
// URL's query, which the step hides from ParseForm, reaches the handler
// as sent, and a form the step parsed is in r.PostForm as ParseForm
// makes it of the body, and in r.Form with the query's values after it
// (r.Form left nil where net/url cannot read the query), less the token
// field.
//
// flags: bit 0 Always; bits 1-2 Sec-Fetch-Site same-origin, neither
// header, a same-origin Origin, or Sec-Fetch-Site cross-site; bits 3-4 no
// token header, a valid one or an invalid one; bits 5-6 Content-Length
// exact, unknown (-1), one less than the body (a body rewritten further
// out, decompressed, without its length), or 0; bit 7 the token cookie
// is sent. method picks POST, PUT, PATCH or DELETE.
func FuzzTokenForm(f *testing.F) {
	const maxForm = 256
	m := csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1, MaxFormBytes: maxForm}})
	// mAlways takes bit 0 of flags: until it was used, that bit only made
	// the oracle take a request for one needing its form token, and skip
	// every check of the body given back.
	mAlways := csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1, MaxFormBytes: maxForm, Always: true}})
	get := httptest.NewRequest("GET", "https://example.com/", nil)
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, csrf.Token(r))
	})).ServeHTTP(rec, get)
	tok, cookies := rec.Body.String(), rec.Result().Cookies()
	if tok == "" || len(cookies) != 1 {
		f.Fatalf("GET: token %q, cookies %v", tok, cookies)
	}
	cookie := cookies[0].Name + "=" + cookies[0].Value
	const urlenc = "application/x-www-form-urlencoded"
	for _, s := range []struct {
		ct, body    string
		query       string
		flags, meth uint8
	}{
		{urlenc, "amount=10&csrf_token=$T", "", 0x80, 0},
		{urlenc, "amount=10&csrf_token=$T", "", 0x81, 0},
		{urlenc, "amount=10&csrf_token=$T", "", 0x82, 0},
		{urlenc, "amount=10&csrf_token=$T", "", 0x89, 1},
		{urlenc, "amount=10&csrf_token=$T", "", 0xa0, 2},
		{urlenc, "amount=10&csrf_token=$T", "", 0xc0, 0},
		{urlenc, "amount=10&csrf_token=$T&csrf_token=$T", "", 0x82, 0},
		{urlenc + "; charset=utf-8", "csrf_token=%zz", "", 0x80, 0},
		{" Application/X-WWW-Form-Urlencoded;x", "csrf_token=x&a=b", "", 0x80, 3},
		{urlenc, "amount=10&csrf_token=" + strings.Repeat("x", 300), "", 0x80, 0},
		{urlenc, "amount=10&csrf_token=" + strings.Repeat("x", 300), "", 0x82, 0},
		{"multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n$T\r\n--b--\r\n", "", 0x82, 0},
		{"multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n$T\r\n--b--\r\n", "", 0x80, 0},
		{"application/json", `{"csrf_token":"x"}`, "", 0x88, 0},
		{"", "csrf_token=x", "", 0x80, 0},
		{urlenc, "amount=10", "amount=20&to=bob", 0x80, 0},
		{urlenc, "amount=10&csrf_token=$T", "q=100%", 0x82, 0},
		{urlenc, "amount=10&csrf_token=$T", "csrf_token=x&b=2", 0x89, 3},
		{urlenc, "amount=10", "a;b", 0x81, 2},
	} {
		f.Add(s.ct, s.body, s.query, s.flags, s.meth)
	}
	methods := [4]string{"POST", "PUT", "PATCH", "DELETE"}
	type outcome struct {
		code    int
		reached bool
		read    int  // bytes of the body read before the handler ran
		parsed  bool // the handler found a parsed form
		form    url.Values
		post    url.Values
		raw     []byte
	}
	do := func(t *testing.T, ct, body, query string, flags, meth uint8, cl int64) outcome {
		t.Helper()
		var o outcome
		cb := &countingBody{r: strings.NewReader(body)}
		r := httptest.NewRequest(methods[meth%4], "https://example.com/transfer", nil)
		r.URL.RawQuery = query
		r.Body, r.ContentLength = cb, cl
		if ct != "" {
			r.Header["Content-Type"] = []string{ct}
		}
		switch flags >> 1 & 3 {
		case 0:
			r.Header.Set("Sec-Fetch-Site", "same-origin")
		case 2:
			r.Header.Set("Origin", "https://example.com")
		case 3:
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		}
		switch flags >> 3 & 3 {
		case 1:
			r.Header.Set("X-CSRF-Token", tok)
		case 2, 3:
			r.Header.Set("X-CSRF-Token", "x")
		}
		if flags&0x80 != 0 {
			r.Header.Set("Cookie", cookie)
		}
		mw := m
		if flags&1 != 0 {
			mw = mAlways
		}
		rec := httptest.NewRecorder()
		mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			o.reached, o.read, o.parsed = true, cb.n, r.PostForm != nil
			o.form, o.post = r.Form, r.PostForm
			if r.URL.RawQuery != query {
				t.Errorf("the handler's query is %q, sent %q", r.URL.RawQuery, query)
			}
			if _, ok := r.PostForm["csrf_token"]; ok {
				t.Errorf("the handler's PostForm holds the token field: %v", r.PostForm)
			}
			if _, ok := r.Form["csrf_token"]; ok {
				t.Errorf("the handler's Form holds the token field: %v", r.Form)
			}
			if r.MultipartForm != nil {
				if _, ok := r.MultipartForm.Value["csrf_token"]; ok {
					t.Errorf("the handler's MultipartForm holds the token field: %v", r.MultipartForm.Value)
				}
				_ = r.MultipartForm.RemoveAll()
			}
			o.raw, _ = io.ReadAll(r.Body)
		})).ServeHTTP(rec, r)
		o.code = rec.Code
		return o
	}
	f.Fuzz(func(t *testing.T, ct, body, query string, flags, meth uint8) {
		body = strings.ReplaceAll(body, "$T", tok)
		var cl int64
		switch flags >> 5 & 3 {
		case 0:
			cl = int64(len(body))
		case 1:
			cl = -1
		case 2:
			cl = int64(len(body)) - 1
		}
		got := do(t, ct, body, query, flags, meth, cl)
		ref := do(t, ct, body, query, flags, meth, -1)
		if got.code != ref.code || got.reached != ref.reached {
			t.Fatalf("Content-Length %d: status %d (handler reached: %v); of unknown length: %d (%v)", cl, got.code, got.reached, ref.code, ref.reached)
		}
		always := flags&1 != 0
		noHeaders := flags>>1&3 == 1
		needFormToken := (always || noHeaders) && flags>>3&3 == 0
		if !got.reached {
			return
		}
		if needFormToken {
			if len(body) > maxForm && strings.Contains(strings.ToLower(ct), "urlencoded") && got.parsed {
				t.Fatalf("a form of %d bytes, over MaxFormBytes, needing its token, was parsed and passed", len(body))
			}
			return
		}
		if !bytes.Equal(got.raw, []byte(body)) {
			t.Fatalf("Content-Length %d: the handler read the body %q, want %q as sent", cl, got.raw, body)
		}
		if (cl <= 0 || cl > maxForm) && (got.read != 0 || got.parsed) {
			t.Fatalf("Content-Length %d: %d bytes of the body were read, parsed: %v", cl, got.read, got.parsed)
		}
		// A form the step parsed is the one ParseForm makes of the body
		// sent, and of the query for r.Form, without the token field.
		if got.parsed {
			post := url.Values{}
			if meth%4 != 3 { // ParseForm reads no body for DELETE
				var err error
				if post, err = url.ParseQuery(body); err != nil {
					t.Fatalf("Content-Length %d: a form net/url refuses (%v) reached the handler parsed: %v", cl, err, got.post)
				}
			}
			var form url.Values
			if q, err := url.ParseQuery(query); err == nil {
				form = url.Values{}
				for k, v := range post {
					form[k] = append(form[k], v...)
				}
				for k, v := range q {
					form[k] = append(form[k], v...)
				}
				delete(form, "csrf_token")
			}
			delete(post, "csrf_token")
			if !reflect.DeepEqual(got.post, post) || !reflect.DeepEqual(got.form, form) {
				t.Fatalf("Content-Length %d, query %q: the handler's PostForm %v and Form %v, want %v and %v", cl, query, got.post, got.form, post, form)
			}
		}
	})
}

// FuzzCheckLines extends FuzzCheck to what it leaves out: Sec-Fetch-Site
// and Origin sent on several lines or empty, a trusted origin, exempt
// routes against net/http's bypass patterns, and request targets parsed
// from the wire (escaped, unclean and absolute paths, queries). With the
// same trusted origin and routes configured on both, a request the package
// allows must be allowed by net/http too, except where the package
// documents a normalization: the Origin fallback, without Sec-Fetch-Site,
// ignoring case and the default port of the Host.
func FuzzCheckLines(f *testing.F) {
	const trusted = "https://trusted.example"
	f.Add("POST", "/hooks/in", "cross-site", "https://evil.example", "example.com", true, uint8(0x05))
	f.Add("POST", "/hooks/in?x", "", "", "example.com", true, uint8(0))
	f.Add("POST", "/hooks/%69n", "cross-site", "", "example.com", true, uint8(0x01))
	f.Add("POST", "/hooks//in", "cross-site", "", "example.com", true, uint8(0x01))
	f.Add("POST", "http://other.example/cb", "cross-site", "", "example.com", true, uint8(0x01))
	f.Add("PUT", "/cb/", "cross-site", "", "example.com", true, uint8(0x01))
	f.Add("PUT", "/x", "same-origin", "https://evil.example", "example.com", true, uint8(0x0f))
	f.Add("DELETE", "/x", "cross-site", trusted, "example.com", true, uint8(0x0d))
	f.Add("POST", "/x", "", "https://EXAMPLE.com", "example.com:443", true, uint8(0x04))
	f.Add("POST", "/x", "", "", "example.com", false, uint8(0x14))
	f.Add("GET", "/x?_method=DELETE", "cross-site", "https://evil.example", "example.com", true, uint8(0x05))
	m := csrf.MustNew(csrf.Options{
		TrustedOrigins: []string{trusted},
		Exempt: []csrf.Exemption{
			{Pattern: "POST /hooks/in", Reason: "test"},
			{Pattern: "/cb", Reason: "test"},
		},
	})
	cop := http.NewCrossOriginProtection()
	if err := cop.AddTrustedOrigin(trusted); err != nil {
		f.Fatal(err)
	}
	cop.AddInsecureBypassPattern("POST /hooks/in")
	cop.AddInsecureBypassPattern("/cb")
	f.Fuzz(func(t *testing.T, method, target, fetchSite, originValue, host string, https bool, lines uint8) {
		raw := method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return
		}
		if https {
			r.TLS = &tls.ConnectionState{}
		}
		// Bits 0-1: Sec-Fetch-Site absent, one line, the value then "",
		// or two lines of the value. Bits 2-3: Origin likewise. Bit 4:
		// the second line first.
		set := func(name, v string, mode uint8) {
			switch mode & 3 {
			case 1:
				r.Header[name] = []string{v}
			case 2:
				r.Header[name] = []string{v, ""}
			case 3:
				r.Header[name] = []string{v, v}
			}
			if l := r.Header[name]; len(l) == 2 && lines&0x10 != 0 {
				l[0], l[1] = l[1], l[0]
			}
		}
		set("Sec-Fetch-Site", fetchSite, lines)
		set("Origin", originValue, lines>>2)
		ours, std := m.Check(r), cop.Check(r)
		if ours != nil || std == nil {
			return
		}
		sfs, origin := r.Header["Sec-Fetch-Site"], r.Header["Origin"]
		if len(sfs) > 0 || len(origin) != 1 {
			t.Fatalf("allowed %s %q with Sec-Fetch-Site %q, Origin %q, Host %q, which net/http rejects: %v", method, target, sfs, origin, host, std)
		}
		u, err := url.Parse(origin[0])
		if err != nil {
			t.Fatalf("allowed Origin %q, which net/http cannot parse", origin[0])
		}
		h := strings.ToLower(r.Host)
		h = strings.TrimSuffix(h, map[bool]string{true: ":443", false: ":80"}[https])
		if u.Host != h {
			t.Fatalf("allowed %s %q with Origin %q for Host %q, which net/http rejects: %v", method, target, origin[0], r.Host, std)
		}
	})
}
