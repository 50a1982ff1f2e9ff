package sanitize_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/sanitize"
)

// TestFormSliceIndexKeys replays gofiber/fiber's BodyParser advisories
// against the form and query decoders. Fiber mapped "key[idx]" and
// "key.idx" onto slice elements, and an attacker-chosen index either
// panicked or sized the slice:
//
//   - CVE-2025-48075 (GHSA-hg3g-gphw-5hhm): a negative index, "tag[-1]",
//     panicked the server.
//   - CVE-2025-54801 (GHSA-qx2q-88mx-vhg7): a huge index,
//     "tag.18446744073704", allocated a slice of that length.
//
// Here a slice field is filled only from repeated plain keys ("tag=a&
// tag=b"); an indexed key is no field at all: refused as unknown by
// default, ignored with AllowUnknownFields, and in neither case does it
// size a slice or panic.
func TestFormSliceIndexKeys(t *testing.T) {
	t.Parallel()
	lenient := sanitize.MustNew(sanitize.Options{AllowUnknownFields: true})
	keys := []struct{ name, key string }{
		{"CVE-2025-48075: a negative bracket index", "tag[-1]"},
		{"CVE-2025-48075: a negative dotted index", "tag.-1"},
		{"CVE-2025-54801: a huge dotted index", "tag.18446744073704"},
		{"CVE-2025-54801: a huge bracket index", "tag[18446744073704]"},
		{"CVE-2025-54801: an index past int64", "tag[99999999999999999999]"},
		{"an index of zero", "tag[0]"},
	}
	for _, k := range keys {
		body := "q=go&" + k.key + "=x"
		t.Run(k.name+", form", func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if _, err := sanitize.DecodeForm[search](nil, w, r); !errors.Is(err, sanitize.ErrUnknownField) || w.Code != 400 {
				t.Errorf("err %v, status %d; want %v, 400", err, w.Code, sanitize.ErrUnknownField)
			}
		})
		t.Run(k.name+", query", func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/?"+body, nil)
			if _, err := sanitize.DecodeQuery[search](nil, w, r); !errors.Is(err, sanitize.ErrUnknownField) || w.Code != 400 {
				t.Errorf("err %v, status %d; want %v, 400", err, w.Code, sanitize.ErrUnknownField)
			}
		})
		t.Run(k.name+", form with unknown fields allowed", func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body+"&tag=a"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			got, err := sanitize.DecodeForm[search](lenient, w, r)
			if err != nil {
				t.Fatalf("err %v (%s)", err, w.Body)
			}
			if len(got.Tags) != 1 || got.Tags[0] != "a" {
				t.Errorf("Tags = %q, want only the plain key's [a]", got.Tags)
			}
		})
	}
}
