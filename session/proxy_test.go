package session_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/internal/testenv"
	"github.com/httpguard/httpguard/session"
)

// The session middleware in front of an httputil.ReverseProxy whose
// backend sets cookies of its own. The proxy adds the backend's
// Set-Cookie lines to the response; without ModifyResponse one for a
// cookie of the session's name replaces the session cookie in the
// browser, or sits before the middleware's own when it sets one.
func TestModifyResponseBehindReverseProxy(t *testing.T) {
	t.Parallel()
	backend := testenv.Backend(t, func(w http.ResponseWriter, r *http.Request) {
		for _, c := range r.URL.Query()["cookie"] {
			w.Header().Add("Set-Cookie", c)
		}
		if v := r.URL.Query().Get("token"); v != "" {
			w.Header().Set("X-Session-Token", v)
		}
		_, _ = io.WriteString(w, "legacy")
	})

	const own = "__Host-session=backend; Path=/; Secure"
	for _, tc := range []struct {
		name    string
		opts    session.Options
		login   bool     // the gateway puts a value in the session, so it sets its cookie
		cookies []string // the backend's Set-Cookie lines
		token   string   // the backend's X-Session-Token
		want    []string // the client's Set-Cookie lines, each cut after its name
		header  string   // the client's X-Session-Token
	}{
		{name: "a backend cookie of the session's name does not replace the session cookie", cookies: []string{own}, want: nil},
		{name: "the backend's other cookies are kept, in order", cookies: []string{"a=1", own, "b=2"}, want: []string{"a", "b"}},
		{name: "when the middleware sets its cookie, the backend's of that name is gone", login: true, cookies: []string{"a=1", own}, want: []string{"a", "__Host-session"}},
		{name: "names are trimmed of spaces and tabs as browsers do", cookies: []string{" \t__Host-session =x", "a=1"}, want: []string{"a"}},
		{name: "a name that only starts with the session's is kept", cookies: []string{"__Host-session-legacy=1"}, want: []string{"__Host-session-legacy"}},
		{name: "a name that differs in case is another cookie, kept", cookies: []string{"__host-session=1"}, want: []string{"__host-session"}},
		{name: "a cookie whose value holds the name is kept", cookies: []string{"a=__Host-session=1"}, want: []string{"a"}},
		{name: "a nameless cookie whose value browsers send as the session cookie is removed", opts: session.Options{CookieName: "app_session", CookieDomain: "example.com"}, cookies: []string{"=app_session=backend; Path=/account", "a=1"}, want: []string{"a"}},
		{name: "a nameless cookie is read with its white space trimmed", cookies: []string{"\t=\t__Host-session =backend", "a=1"}, want: []string{"a"}},
		{name: "a nameless cookie whose value names another cookie is kept", cookies: []string{"=a=1"}, want: []string{""}},
		{name: "a configured name is matched", opts: session.Options{CookieName: "__Host-app"}, cookies: []string{"__Host-app=x; Path=/; Secure", own}, want: []string{"__Host-session"}},
		{name: "a backend's token header is removed", opts: session.Options{TokenHeader: "X-Session-Token"}, token: "chosen-by-backend", header: ""},
		{name: "a token header is kept when the middleware has none", token: "legacy", header: "legacy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := session.New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			proxy := httputil.NewSingleHostReverseProxy(backend)
			proxy.ModifyResponse = m.ModifyResponse
			gw := httptest.NewTLSServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.login {
					session.FromRequest(r).SetString("user", "alice")
				}
				proxy.ServeHTTP(w, r)
			})))
			t.Cleanup(gw.Close)
			q := url.Values{"cookie": tc.cookies}
			if tc.token != "" {
				q.Set("token", tc.token)
			}
			res, err := gw.Client().Get(gw.URL + "/?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var names []string
			for _, c := range res.Header.Values("Set-Cookie") {
				name, _, _ := strings.Cut(c, "=")
				names = append(names, name)
				if name == m.CookieName() && strings.HasPrefix(c, name+"=backend") {
					t.Errorf("the backend's session cookie reached the client: %q", c)
				}
			}
			if string(body) != "legacy" || !slices.Equal(names, tc.want) {
				t.Errorf("Set-Cookie names %q (body %q); want %q", names, body, tc.want)
			}
			if got := res.Header.Get("X-Session-Token"); got != tc.header {
				t.Errorf("X-Session-Token %q; want %q", got, tc.header)
			}
		})
	}
}

func TestModifyResponseDoesNotAllocate(t *testing.T) {
	m, err := session.New(session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := &http.Response{Header: make(http.Header, 4)}
	lines := []string{"a=1", "__Host-session=x", "b=2"}
	vals := make([]string, len(lines))
	if n := testing.AllocsPerRun(100, func() {
		copy(vals, lines)
		res.Header["Set-Cookie"] = vals
		_ = m.ModifyResponse(res)
	}); n != 0 {
		t.Errorf("ModifyResponse allocates %v", n)
	}
	if got := res.Header["Set-Cookie"]; !slices.Equal(got, []string{"a=1", "b=2"}) {
		t.Errorf("Set-Cookie %q; want the two other cookies", got)
	}
}
