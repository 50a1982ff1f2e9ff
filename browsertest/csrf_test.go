package browsertest_test

import (
	"crypto/rand"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/httpguard/httpguard/csrf"
)

// testCSRF: a cross-site form POST is rejected by csrf, while the
// same-origin form with its token succeeds. Tokens are required on every
// unsafe request (TokenOptions.Always), so the same-origin cases show that
// the token, not only Fetch Metadata, is checked. The bank is
// https://127.0.0.1, the attacker https://localhost: different sites.
func (s *suite) testCSRF(t *testing.T) {
	hits := newEvents[hit]()
	reasons := newEvents[error]()
	transfers := newEvents[string]()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	p, err := csrf.New(csrf.Options{
		Tokens: &csrf.TokenOptions{Key: key, Always: true},
		OnReject: func(w http.ResponseWriter, r *http.Request, err error) {
			reasons.add(err)
			http.Error(w, "forbidden", http.StatusForbidden)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	form := template.Must(template.New("form").Parse(`<!doctype html><title>bank</title>
<form method="post" action="/transfer">{{.}}<input name="amount" value="100"><button id="send">Send</button></form>`))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		field := csrf.TemplateField(r)
		switch r.URL.Query().Get("token") {
		case "none":
			field = ""
		case "forged": // the shape of a real token, not issued by the server
			field = template.HTML(`<input type="hidden" name="csrf_token" value="` + strings.Repeat("A", 86) + `">`)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = form.Execute(w, field)
	})
	mux.HandleFunc("POST /transfer", func(w http.ResponseWriter, r *http.Request) {
		transfers.add(r.PostFormValue("amount"))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<p id="done">transferred</p>`))
	})
	bank := s.serve(t, recorder(hits, p.Handler(mux)), true).origin("127.0.0.1")
	evil := s.serve(t, html(`<!doctype html><title>prize</title>
<form method="post" action="`+bank+`/transfer"><input name="amount" value="1000000"><button id="send">Win a prize</button></form>`), true).origin("localhost")

	for _, tc := range []struct {
		name, page string
		status     int
		fetchSite  string
		reason     error // nil: the transfer must happen
	}{
		{"the same-origin form with its token succeeds", bank + "/form", http.StatusOK, "same-origin", nil},
		{"the same-origin form without a token is rejected", bank + "/form?token=none", http.StatusForbidden, "same-origin", csrf.ErrTokenMissing},
		{"the same-origin form with a forged token is rejected", bank + "/form?token=forged", http.StatusForbidden, "same-origin", csrf.ErrTokenInvalid},
		{"a cross-site form post is rejected before its handler", evil + "/", http.StatusForbidden, "cross-site", csrf.ErrCrossOrigin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := s.tab(t)
			navigate(t, ctx, tc.page)
			nHits, nReasons, nTransfers := len(hits.all()), len(reasons.all()), len(transfers.all())
			// The user clicks the button; the browser posts the form as a
			// top-level navigation.
			resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("send")))
			if err != nil {
				t.Fatalf("submit the form: %v", err)
			}
			if resp == nil {
				t.Fatal("the browser reported no response for the navigation")
			}
			if resp.Status != int64(tc.status) {
				t.Errorf("the browser got status %d for the post, want %d", resp.Status, tc.status)
			}
			var posts []hit
			for _, h := range hits.all()[nHits:] {
				if h.Method == http.MethodPost && h.Path == "/transfer" {
					posts = append(posts, h)
				}
			}
			if len(posts) != 1 {
				t.Fatalf("the server saw %d POST /transfer, want 1", len(posts))
			}
			if posts[0].FetchSite != tc.fetchSite {
				t.Errorf("the browser sent Sec-Fetch-Site %q, want %q", posts[0].FetchSite, tc.fetchSite)
			}
			newReasons, newTransfers := reasons.all()[nReasons:], transfers.all()[nTransfers:]
			if tc.reason == nil {
				if len(newReasons) != 0 || len(newTransfers) != 1 || newTransfers[0] != "100" {
					t.Errorf("rejections %v, transfers %q; want none and one of 100", newReasons, newTransfers)
				}
				if text := eval[string](t, ctx, `document.getElementById("done")?.textContent ?? ""`); text != "transferred" {
					t.Errorf("the page shows %q, want the transfer confirmation", text)
				}
				return
			}
			if len(newTransfers) != 0 {
				t.Errorf("the handler ran for a rejected post: transfers %q", newTransfers)
			}
			if len(newReasons) != 1 || !errors.Is(newReasons[0], tc.reason) {
				t.Errorf("rejected for %v, want %v", newReasons, tc.reason)
			}
		})
	}
}
