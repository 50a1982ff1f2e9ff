package httpguard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard"
)

func tag(name string, log *[]string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			*log = append(*log, name+">")
			next.ServeHTTP(w, r)
			*log = append(*log, "<"+name)
		})
	}
}

func TestChainAppliesOutermostFirst(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mws  func(log *[]string) []func(http.Handler) http.Handler
		want string
	}{
		{"no middleware is the handler itself", func(*[]string) []func(http.Handler) http.Handler { return nil }, "h"},
		{"one middleware", func(l *[]string) []func(http.Handler) http.Handler {
			return []func(http.Handler) http.Handler{tag("a", l)}
		}, "a> h <a"},
		{"three in order, the first outermost", func(l *[]string) []func(http.Handler) http.Handler {
			return []func(http.Handler) http.Handler{tag("a", l), tag("b", l), tag("c", l)}
		}, "a> b> c> h <c <b <a"},
		{"nil entries are skipped", func(l *[]string) []func(http.Handler) http.Handler {
			return []func(http.Handler) http.Handler{nil, tag("a", l), nil}
		}, "a> h <a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log []string
			mws := tt.mws(&log)
			h := httpguard.Chain(mws...)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { log = append(log, "h") }))
			if len(mws) > 0 {
				mws[0] = nil // the chain copied its arguments
			}
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			if got := strings.Join(log, " "); got != tt.want {
				t.Errorf("order %q, want %q", got, tt.want)
			}
		})
	}
}

func ExampleChain() {
	var log []string
	stack := httpguard.Chain(tag("recover", &log), tag("headers", &log), tag("auth", &log))
	h := stack(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { log = append(log, "handler") }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	fmt.Println(strings.Join(log, " "))
	// Output: recover> headers> auth> handler <auth <headers <recover
}
