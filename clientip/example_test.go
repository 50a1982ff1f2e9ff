package clientip_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"

	"github.com/httpguard/httpguard/clientip"
)

// A server that faces clients directly trusts no proxy: the zero Resolver
// ignores every forwarding header.
func ExampleResolver_direct() {
	var rv clientip.Resolver
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "203.0.113.7:5555"
	r.Header.Set("X-Forwarded-For", "1.2.3.4") // a client's lie
	r.Header.Set("X-Forwarded-Proto", "https")
	fmt.Println(rv.Addr(r), rv.Scheme(r))
	// Output: 203.0.113.7 http
}

// Behind a load balancer in 10.0.0.0/8 that sets X-Forwarded-For and
// X-Forwarded-Proto, trust exactly that network.
func ExampleNew() {
	rv, err := clientip.New(clientip.Options{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		PublicOrigin:   "https://api.example.com",
	})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.1:40000"
	r.Host = "backend:8080" // rewritten by the proxy
	r.Header.Set("X-Forwarded-For", "6.6.6.6, 198.51.100.1")
	r.Header.Set("X-Forwarded-Proto", "https")
	info := rv.Resolve(r)
	fmt.Println(info.Addr, info.Scheme, info.Host)
	fmt.Println(rv.Origin(r))
	// Output:
	// 198.51.100.1 https api.example.com
	// https://api.example.com
}

// Which Options to choose depends on what is in front of the server.
func Example_decisionGuide() {
	// Clients connect directly: trust nothing (the zero Resolver).
	direct := &clientip.Resolver{}

	// One reverse proxy on the same host, speaking X-Forwarded-For.
	local := clientip.MustNew(clientip.Options{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")},
	})

	// A proxy that writes RFC 7239 Forwarded headers.
	rfc := clientip.MustNew(clientip.Options{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Header:         clientip.Forwarded,
	})

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "127.0.0.1:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	fmt.Println(direct.Addr(r), local.Addr(r), rfc.Addr(r))
	// Output: 127.0.0.1 198.51.100.1 127.0.0.1
}

// Handler resolves each request once for the handlers below it.
func ExampleResolver_Handler() {
	rv := clientip.MustNew(clientip.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	h := rv.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, _ := clientip.FromContext(r.Context())
		fmt.Fprintln(w, info.Addr)
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.1:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Print(w.Body.String())
	// Output: 198.51.100.1
}
