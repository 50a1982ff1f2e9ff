package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/httpguard/httpguard/examples/secureapi/app"
)

// BenchmarkItem measures GET /items/{id} through the whole stack, in
// process, against the same handler on a bare ServeMux: the cost of every
// protection on a request that passes them all.
func BenchmarkItem(b *testing.B) {
	cfg := newConfig(b, io.Discard)
	cfg.RequestRate = 1_000_000 // one client sends everything
	h, err := app.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := &client{t: b, base: srv.URL, hc: srv.Client(), header: http.Header{}}
	token := c.bearer("bob")

	bare := http.NewServeMux()
	bare.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.PathValue("id"))
		if err != nil || n < 1 || n > 100 {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": n, "name": "item " + r.PathValue("id")})
	})

	run := func(b *testing.B, h http.Handler, auth string, want int) {
		req := httptest.NewRequest("GET", "http://127.0.0.1/items/7", nil)
		req.RemoteAddr = "192.0.2.1:1234"
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != want {
				b.Fatalf("%d", w.Code)
			}
		}
	}
	b.Run("stack=bare", func(b *testing.B) { run(b, bare, "", 200) })
	b.Run("stack=secureapi/bearer", func(b *testing.B) { run(b, h, "Bearer "+token, 200) })
	b.Run("stack=secureapi/anonymous", func(b *testing.B) { run(b, h, "", 401) })
	b.Run("stack=secureapi/forged-token", func(b *testing.B) { run(b, h, "Bearer "+token[:len(token)-4]+"AAAA", 401) })
}
