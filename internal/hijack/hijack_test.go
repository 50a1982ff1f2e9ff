package hijack_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/httpguard/httpguard/internal/hijack"
	"github.com/httpguard/httpguard/internal/testenv"
)

type hijacker struct{ http.ResponseWriter }

func (hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) { return nil, nil, nil }

type unwrapper struct{ http.ResponseWriter }

func (u unwrapper) Unwrap() http.ResponseWriter { return u.ResponseWriter }

func TestPossible(t *testing.T) {
	rec := httptest.NewRecorder()
	deep := http.ResponseWriter(hijacker{rec})
	for range 15 {
		deep = unwrapper{deep}
	}
	for _, tt := range []struct {
		name string
		w    http.ResponseWriter
		want bool
	}{
		{"a writer that cannot hijack", rec, false},
		{"a Hijacker", hijacker{rec}, true},
		{"a Hijacker behind a wrapper with Unwrap", unwrapper{hijacker{rec}}, true},
		{"a writer that cannot hijack behind a wrapper", unwrapper{rec}, false},
		{"a Hijacker 16 writers deep", deep, true},
		{"a Hijacker 17 writers deep", unwrapper{deep}, false},
		{"a wrapper whose Unwrap returns nil", unwrapper{nil}, false},
	} {
		if got := hijack.Possible(tt.w); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { hijack.Possible(deep) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// Over HTTP/1.1 the server's writer is a Hijacker; over HTTP/2 it is not.
func TestPossibleOnTheServersWriters(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		var got bool
		testenv.GetTLS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = hijack.Possible(w)
		}), h2)
		if got == h2 {
			t.Errorf("HTTP/2 %v: Possible = %v", h2, got)
		}
	}
}
