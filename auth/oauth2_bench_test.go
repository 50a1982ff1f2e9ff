package auth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/auth"
)

// BenchmarkTokenEndpoint measures the grants without the password hash
// (the fixture's hasher is deliberately cheap): form parsing, client
// lookup, scope resolution, signing (EdDSA) and, for refresh, the
// rotation in the memory store.
func BenchmarkTokenEndpoint(b *testing.B) {
	f := newOAuth(b, nil)
	post := func(body string, authz func(*http.Request)) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authz != nil {
			authz(r)
		}
		w := httptest.NewRecorder()
		f.ep.ServeHTTP(w, r)
		return w
	}
	b.Run("grant=client_credentials", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if w := post("grant_type=client_credentials", basicAuth("batch", "batch secret/+=")); w.Code != 200 {
				b.Fatal(w.Code, w.Body)
			}
		}
	})
	b.Run("grant=refresh_token", func(b *testing.B) {
		res := f.post(b, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil)
		rt := res.str("refresh_token")
		b.ReportAllocs()
		for b.Loop() {
			w := post("grant_type=refresh_token&client_id=web&refresh_token="+url.QueryEscape(rt), nil)
			if w.Code != 200 {
				b.Fatal(w.Code, w.Body)
			}
			body := w.Body.String()
			i := strings.Index(body, `"refresh_token":"`) + len(`"refresh_token":"`)
			rt = body[i : i+strings.IndexByte(body[i:], '"')]
		}
	})
	// A public client's refresh with a DPoP proof (ES256): the proof's
	// checks and signature, the bound token's signing and the rotation.
	// Proofs are made in batches outside the timer (stopping it for each
	// would cost more than what is measured).
	b.Run("grant=refresh_token/dpop=ES256", func(b *testing.B) {
		f, _ := newDPoPOAuth(b, auth.DPoPOptions{}, nil)
		k := newECDPoPKey(b)
		res := f.post(b, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), withProof(grantProof(b, k)))
		rt := res.str("refresh_token")
		var proofs []string
		b.ReportAllocs()
		for b.Loop() {
			if len(proofs) == 0 {
				b.StopTimer()
				for range 256 {
					proofs = append(proofs, grantProof(b, k))
				}
				b.StartTimer()
			}
			r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader("grant_type=refresh_token&client_id=web&refresh_token="+url.QueryEscape(rt)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("DPoP", proofs[len(proofs)-1])
			proofs = proofs[:len(proofs)-1]
			w := httptest.NewRecorder()
			f.ep.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatal(w.Code, w.Body)
			}
			body := w.Body.String()
			i := strings.Index(body, `"refresh_token":"`) + len(`"refresh_token":"`)
			rt = body[i : i+strings.IndexByte(body[i:], '"')]
		}
	})
	b.Run("case=garbage-body", func(b *testing.B) {
		body := strings.Repeat("a=b&", 1000)
		b.ReportAllocs()
		for b.Loop() {
			if w := post(body, nil); w.Code != 400 {
				b.Fatal(w.Code)
			}
		}
	})
}
