package ratelimit_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"time"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/ratelimit"
)

// Two limits on a login route: five a minute per client address, and a
// ceiling of a thousand an hour for everyone. (A ceiling of a thousand a
// second earns a request back every millisecond, so the counts printed
// here would depend on how fast the machine runs the loop.)
func Example() {
	lim, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{
			{Name: "ip", Rate: 5, Period: time.Minute},
			{Name: "all", Rate: 1000, Period: time.Hour, Key: ratelimit.Global()},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /login", lim.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "welcome")
	})))

	for i := 1; i <= 6; i++ {
		r := httptest.NewRequest("POST", "/login", nil)
		r.RemoteAddr = "192.0.2.1:40000"
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Printf("%d %d %s", i, w.Code, w.Header().Get("RateLimit"))
		if ra := w.Header().Get("Retry-After"); ra != "" {
			fmt.Printf(" Retry-After: %s", ra)
		}
		fmt.Println()
	}
	// Output:
	// 1 200 "ip";r=4;t=12, "all";r=999;t=4
	// 2 200 "ip";r=3;t=24, "all";r=998;t=8
	// 3 200 "ip";r=2;t=36, "all";r=997;t=11
	// 4 200 "ip";r=1;t=48, "all";r=996;t=15
	// 5 200 "ip";r=0;t=60, "all";r=995;t=18
	// 6 429 "ip";r=0;t=60 Retry-After: 12
}

func ExampleNew() {
	_, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{{Name: "per ip", Rate: 0, Period: time.Minute}},
	})
	fmt.Println(err)
	// Output:
	// ratelimit: invalid option: Limits[0].Name: "per ip" must be 1 to 32 ASCII letters, digits, '-', '_' or '.'
	// ratelimit: invalid option: Limits[0].Rate: 0 must be positive
}

// Behind a proxy, the client address comes from the forwarding header the
// proxy sets, believed only from the proxy.
func ExampleNew_behindProxy() {
	resolver := clientip.MustNew(clientip.Options{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	lim, _ := ratelimit.New(ratelimit.Options{
		Limits:   []ratelimit.Limit{{Rate: 1, Period: time.Hour}},
		ClientIP: resolver,
		Headers:  ratelimit.HeadersOff,
	})
	h := lim.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, client := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.1"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.0.0.1:1234" // the proxy
		r.Header.Set("X-Forwarded-For", client)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(client, w.Code)
	}
	// Output:
	// 192.0.2.1 200
	// 192.0.2.2 200
	// 192.0.2.1 429
}

// The classic mistake: a proxy in front, but no resolver that trusts it.
// Every client has the proxy's address, so one client's requests spend
// everyone's budget.
func ExampleNew_incorrect() {
	lim, _ := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{{Rate: 1, Period: time.Hour}},
		// ClientIP is missing.
	})
	h := lim.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, client := range []string{"192.0.2.1", "192.0.2.2"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.0.0.1:1234"
		r.Header.Set("X-Forwarded-For", client)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(client, w.Code)
	}
	// Output:
	// 192.0.2.1 200
	// 192.0.2.2 429
}

// A per-user limit goes after authentication. Requests that carry no
// identity, like these, are counted by client address instead.
func ExampleMiddleware_Handler() {
	lim, _ := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{{Name: "user", Rate: 100, Period: time.Hour, Burst: 2, Key: ratelimit.BySubject()}},
	})
	h := lim.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for range 3 {
		r := httptest.NewRequest("GET", "/", nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("RateLimit-Policy"), w.Header().Get("RateLimit"))
	}
	// Output:
	// 200 "user";q=2;w=72 "user";r=1;t=36
	// 200 "user";q=2;w=72 "user";r=0;t=72
	// 429 "user";q=2;w=72 "user";r=0;t=72
}

// Plans of an API: the accounts of the "pro" plan get 1000 requests an
// hour, the others 100. The plan comes from what the server knows of the
// account (here a map; in an application, the account record behind the
// identity that auth put in the request).
func ExampleLimit_plans() {
	planOf := map[string]string{"alice": "pro"} // by subject
	lim, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{{
			Name: "account", Rate: 100, Period: time.Hour, Key: ratelimit.BySubject(),
			Plans: map[string]ratelimit.Plan{"pro": {Rate: 1000, Period: time.Hour}},
			PlanOf: func(r *http.Request) string {
				id, _ := identity.FromRequest(r)
				return planOf[id.Subject()]
			},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	h := lim.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, subject := range []string{"alice", "bob"} {
		r := httptest.NewRequest("GET", "/", nil)
		r = r.WithContext(identity.NewContext(r.Context(), identity.New(identity.Options{Subject: subject})))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(subject, w.Code, w.Header().Get("RateLimit-Policy"), w.Header().Get("RateLimit"))
	}
	// Output:
	// alice 200 "account";q=1000;w=3600 "account";r=999;t=4
	// bob 200 "account";q=100;w=3600 "account";r=99;t=36
}

// A batch endpoint charged by the items a request declares: 100 items a
// minute per address. A batch of 60 is admitted; a second batch of 60
// must wait until 60 items' worth has come back; a batch larger than the
// burst can never be admitted, and no Retry-After is given.
func ExampleLimit_cost() {
	lim, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{{
			Name: "items", Rate: 100, Period: time.Minute,
			Cost: func(r *http.Request) int {
				n, err := strconv.Atoi(r.URL.Query().Get("count"))
				if err != nil || n < 1 {
					return 1 // the handler refuses the request; count it once
				}
				return n
			},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	h := lim.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, count := range []string{"60", "60", "40", "500"} {
		r := httptest.NewRequest("POST", "/batch?count="+count, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Printf("%s items: %d, Retry-After %q, RateLimit %s\n", count, w.Code, w.Header().Get("Retry-After"), w.Header().Get("RateLimit"))
	}
	// Output:
	// 60 items: 200, Retry-After "", RateLimit "items";r=40;t=36
	// 60 items: 429, Retry-After "12", RateLimit "items";r=0;t=36
	// 40 items: 200, Retry-After "", RateLimit "items";r=0;t=60
	// 500 items: 429, Retry-After "", RateLimit "items";r=0;t=60
}

// A login handler that reserves an attempt before verifying the password:
// after ten failures in a row for one user from one address the pair is
// locked, right password included, while other users and other addresses
// are not affected. The reservation is the failure, so concurrent guesses
// cannot all pass before one is counted.
func ExampleAttemptLimiter() {
	attempts, err := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	attacker := netip.MustParseAddr("203.0.113.9")
	login := func(user, password string, ip netip.Addr) string {
		if retry, err := attempts.Reserve(ctx, user, ip); err != nil {
			return fmt.Sprintf("429, retry in %v", retry.Round(time.Minute))
		}
		if password != "correct horse" {
			return "401" // the reservation counted the failure
		}
		attempts.RecordSuccess(ctx, user, ip)
		return "200"
	}
	for range 10 {
		login("alice", "guess", attacker)
	}
	fmt.Println(login("alice", "correct horse", attacker))
	fmt.Println(login("bob", "correct horse", attacker))
	fmt.Println(login("alice", "correct horse", netip.MustParseAddr("198.51.100.20")))
	// Output:
	// 429, retry in 15m0s
	// 200
	// 200
}

func ExampleConcurrencyLimiter() {
	shed, _ := ratelimit.NewConcurrencyLimiter(ratelimit.ConcurrencyOptions{MaxInFlight: 1})
	inside := make(chan struct{})
	done := make(chan struct{})
	h := shed.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		close(inside)
		<-done
	}))
	go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	<-inside
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	close(done)
	fmt.Println(w.Code, w.Header().Get("Retry-After"))
	// Output:
	// 503 1
}
