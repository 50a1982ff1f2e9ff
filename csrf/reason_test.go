package csrf_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/httpguard/httpguard/csrf"
	"github.com/httpguard/httpguard/internal/problem"
)

func TestDefaultRejectionRecordsTheReasonForTheAccessLog(t *testing.T) {
	m := csrf.MustNew(csrf.Options{})
	ctx, reason := problem.WithReason(context.Background())
	r := req{headers: [][2]string{sfs("cross-site"), origin("https://evil.test")}}.build().WithContext(ctx)
	rec := httptest.NewRecorder()
	m.Handler(noop).ServeHTTP(rec, r)
	if rec.Code != http.StatusForbidden || rec.Header().Get("Content-Type") != "application/problem+json" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, header %v: want the generic 403 problem", rec.Code, rec.Header())
	}
	if !errors.Is(reason.Err(), csrf.ErrCrossOrigin) {
		t.Errorf("recorded reason %v, want ErrCrossOrigin", reason.Err())
	}
}
