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
