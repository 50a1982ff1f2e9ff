package https_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/internal/problem"
)

func TestRefusedHostRecordsTheReasonForTheAccessLog(t *testing.T) {
	rd := mustRedirect(t, https.RedirectOptions{AllowedHosts: []string{"www.example.com"}})
	ctx, reason := problem.WithReason(context.Background())
	r := httptest.NewRequest("GET", "/a", nil).WithContext(ctx)
	r.Host = "evil.example"
	rec := httptest.NewRecorder()
	rd.Handler(http.NotFoundHandler()).ServeHTTP(rec, r)
	if rec.Code != http.StatusBadRequest || rec.Header().Get("Content-Type") != "application/problem+json" || rec.Header().Get("Location") != "" {
		t.Fatalf("status %d, header %v: want the generic 400 problem and no redirect", rec.Code, rec.Header())
	}
	if !errors.Is(reason.Err(), https.ErrHostNotAllowed) {
		t.Errorf("recorded reason %v, want ErrHostNotAllowed", reason.Err())
	}
}

// Found in review: with a nil fallback, every request to port 80 that is
// not a challenge was recorded as a host outside the allowed hosts, which
// sent an operator reading the access log after the wrong setting.
func TestACMENilFallbackRecordsNotAChallenge(t *testing.T) {
	a, err := https.NewACME(https.ACMEOptions{Hosts: []string{"shop.example"}, CacheDir: t.TempDir(), AcceptTOS: true,
		DirectoryURL: "https://acme.invalid/directory"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, reason := problem.WithReason(context.Background())
	r := httptest.NewRequest("GET", "/page", nil).WithContext(ctx)
	r.Host = "shop.example"
	rec := httptest.NewRecorder()
	a.HTTPHandler(nil).ServeHTTP(rec, r)
	if rec.Code != http.StatusBadRequest || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d, header %v: want the generic 400 problem", rec.Code, rec.Header())
	}
	if reason.Err() == nil || errors.Is(reason.Err(), https.ErrHostNotAllowed) {
		t.Errorf("recorded reason %v, want one saying the request is not a challenge", reason.Err())
	}
}

// Found in review: CheckTLSConfig(nil) panicked.
func TestCheckTLSConfigNil(t *testing.T) {
	if err := https.CheckTLSConfig(nil); !errors.Is(err, https.ErrTLSConfig) {
		t.Errorf("CheckTLSConfig(nil) = %v, want ErrTLSConfig", err)
	}
}
