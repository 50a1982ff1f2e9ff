package cors_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"testing"

	"github.com/httpguard/httpguard/cors"
	"github.com/httpguard/httpguard/internal/testenv"
)

// corsBackend is a legacy backend that grants CORS itself: with
// ?grant=reflect it echoes any Origin with credentials (the classic
// misconfiguration), with ?grant=star it answers "*"; it answers OPTIONS
// as a permissive preflight, and always adds Vary: Accept-Encoding.
func corsBackend(t *testing.T) *url.URL {
	t.Helper()
	return testenv.Backend(t, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Accept-Encoding")
		switch r.URL.Query().Get("grant") {
		case "reflect":
			h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
			h.Set("Access-Control-Allow-Credentials", "true")
		case "star":
			h.Set("Access-Control-Allow-Origin", "*")
		}
		h.Set("Access-Control-Expose-Headers", "X-Internal-Trace")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, PUT, DELETE, PATCH, POST")
			h.Set("Access-Control-Allow-Headers", "*")
			h.Set("Access-Control-Max-Age", "86400")
			h.Set("Access-Control-Allow-Private-Network", "true")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		_, _ = io.WriteString(w, "legacy")
	})
}

// The middleware in front of an httputil.ReverseProxy whose backend grants
// CORS itself. The proxy adds the backend's fields to the middleware's;
// without ModifyResponse an origin the middleware refuses is granted by
// the backend (with credentials, when it echoes the Origin), and an
// origin it allows gets two Access-Control-Allow-Origin values, which
// browsers reject.
func TestModifyResponseBehindReverseProxy(t *testing.T) {
	t.Parallel()
	backend := corsBackend(t)
	const app, evil = "https://app.example.com", "https://evil.example"
	passthrough := base
	passthrough.OptionsPassthrough = true
	star := cors.Options{AllowedOrigins: []string{"*"}}
	for _, tc := range []struct {
		name   string
		opts   cors.Options
		method string
		origin string
		grant  string // the backend's: "reflect", "star" or ""
		want   http.Header
	}{
		{name: "a refused origin is not granted by a backend that echoes every origin with credentials", opts: base, origin: evil, grant: "reflect",
			want: http.Header{"Vary": {"Origin", "Accept-Encoding"}}},
		{name: "a refused origin is not granted by a backend that answers *", opts: base, origin: evil, grant: "star",
			want: http.Header{"Vary": {"Origin", "Accept-Encoding"}}},
		{name: "an allowed origin gets one Allow-Origin, not the backend's too", opts: base, origin: app, grant: "reflect",
			want: http.Header{"Access-Control-Allow-Origin": {app}, "Access-Control-Allow-Credentials": {"true"},
				"Access-Control-Expose-Headers": {"x-total-count"}, "Vary": {"Origin", "Accept-Encoding"}}},
		{name: "an allowed origin gets the origin, not also the backend's *", opts: base, origin: app, grant: "star",
			want: http.Header{"Access-Control-Allow-Origin": {app}, "Access-Control-Allow-Credentials": {"true"},
				"Access-Control-Expose-Headers": {"x-total-count"}, "Vary": {"Origin", "Accept-Encoding"}}},
		{name: "a request without Origin gets no backend grant", opts: base, grant: "star",
			want: http.Header{"Vary": {"Origin", "Accept-Encoding"}}},
		{name: "a * configuration answers * alone, without the backend's credentials", opts: star, origin: evil, grant: "reflect",
			want: http.Header{"Access-Control-Allow-Origin": {"*"}, "Vary": {"Accept-Encoding"}}},
		{name: "the zero Middleware grants nothing, whatever the backend says", origin: evil, grant: "reflect",
			want: http.Header{"Vary": {"Origin", "Accept-Encoding"}}},
		{name: "a preflight passed through is answered with the middleware's grant only", opts: passthrough, method: http.MethodOptions, origin: app, grant: "reflect",
			want: http.Header{"Access-Control-Allow-Origin": {app}, "Access-Control-Allow-Credentials": {"true"},
				"Access-Control-Allow-Methods": {"PUT"}, "Access-Control-Max-Age": {"600"},
				"Vary": {"Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network", "Accept-Encoding"}}},
		{name: "a refused preflight passed through gets no grant from the backend", opts: passthrough, method: http.MethodOptions, origin: evil, grant: "reflect",
			want: http.Header{"Vary": {"Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network", "Accept-Encoding"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := cors.New(tc.opts)
			if tc.opts.AllowedOrigins == nil {
				m, err = &cors.Middleware{}, nil
			}
			if err != nil {
				t.Fatal(err)
			}
			proxy := httputil.NewSingleHostReverseProxy(backend)
			proxy.ModifyResponse = m.ModifyResponse
			gw := httptest.NewServer(m.Handler(proxy))
			t.Cleanup(gw.Close)
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			req, _ := http.NewRequest(method, gw.URL+"/?grant="+tc.grant, nil)
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if method == http.MethodOptions {
				req.Header.Set("Access-Control-Request-Method", "PUT")
			}
			res, err := gw.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
				"Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age",
				"Access-Control-Allow-Private-Network", "Vary"} {
				if got := res.Header.Values(k); !slices.Equal(got, tc.want[k]) {
					t.Errorf("%s: %q; want %q", k, got, tc.want[k])
				}
			}
		})
	}
}

func TestModifyResponseDoesNotAllocate(t *testing.T) {
	m := cors.MustNew(base)
	res := &http.Response{Header: make(http.Header, 8)}
	acao, acac := []string{"*"}, []string{"true"}
	if n := testing.AllocsPerRun(100, func() {
		res.Header["Access-Control-Allow-Origin"] = acao
		res.Header["Access-Control-Allow-Credentials"] = acac
		_ = m.ModifyResponse(res)
	}); n != 0 {
		t.Errorf("ModifyResponse allocates %v", n)
	}
}
