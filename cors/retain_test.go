package cors_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"unsafe"

	"github.com/httpguard/httpguard/cors"
)

// The response header values of a preflight come from slots of shared
// slabs, which stay reachable, with every string their slots hold, as
// long as one response still uses a slot or the slab is its shard's
// current one: on an idle server, or behind one long request, for good.
// An echoed Access-Control-Request-Headers list is the request's own
// string, up to 1 KiB: a long one gets a slice of its own, so that a slab
// never keeps more than a short value per slot of what clients sent.
func TestLongEchoedHeaderListsGetSlicesOfTheirOwn(t *testing.T) {
	m, err := cors.New(cors.Options{AllowedOrigins: []string{"https://app.example.com"}, AllowedHeaders: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(next)
	for _, n := range []int{13, 130, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			list := strings.TrimSuffix(strings.Repeat("x-abcdefghij,", n/13), ",")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, newRequest("OPTIONS", "/", preflight("https://app.example.com", "POST", acrh(list))))
			acao, acah := w.Header()["Access-Control-Allow-Origin"], w.Header()["Access-Control-Allow-Headers"]
			if len(acao) != 1 || len(acah) != 1 || acah[0] != list {
				t.Fatalf("status %d, ACAO %q, ACAH %q", w.Code, acao, acah)
			}
			// Slots of one response are neighbours in their slab.
			gap := uintptr(unsafe.Pointer(&acah[0])) - uintptr(unsafe.Pointer(&acao[0]))
			inSlab := gap == unsafe.Sizeof("")
			if long := len(list) > 256; inSlab == long {
				t.Errorf("a %d-byte list: in the slab %v, want %v", len(list), inSlab, !long)
			}
		})
	}
}
