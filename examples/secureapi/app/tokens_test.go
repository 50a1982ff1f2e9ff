package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/examples/secureapi/app"
)

// TestTokenBudgetPerUser: one account hammering the refresh grant, each
// request from a fresh IPv6 /64 so that no per-address budget holds it, is
// refused with 429 slow_down once it has been issued TokenRate tokens in
// the minute, logins and refreshes together, while another user is
// served. With Redis the budget is shared by two instances.
func TestTokenBudgetPerUser(t *testing.T) {
	t.Parallel()
	rv := trustLoopback(t)
	onInstances(t, func(cfg *app.Config) {
		cfg.ClientIP = rv
		cfg.CredentialRate = 3 // per address: never reached, no address is used more often
		cfg.TokenRate = 4
	}, func(t *testing.T, servers []*testServer, _ *logBuffer) {
		n := 0
		from := func() string { // a fresh /64 for every request
			n++
			return fmt.Sprintf("2001:db8:%x::1", n)
		}
		client := func() *client { return servers[n%len(servers)].client(t) }
		refresh := func(rt string) response {
			return client().postForm("/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "refresh_token": {rt}},
				"X-Forwarded-For", from())
		}

		r := client().token("bob", testPassword, "", "X-Forwarded-For", from())
		if r.StatusCode != http.StatusOK {
			t.Fatalf("login: %d %s", r.StatusCode, r.body)
		}
		rt := r.json(t)["refresh_token"].(string)
		for i := range 3 {
			r := refresh(rt)
			if r.StatusCode != http.StatusOK {
				t.Fatalf("refresh %d within the budget: %d %s", i+1, r.StatusCode, r.body)
			}
			rt = r.json(t)["refresh_token"].(string)
		}
		for range 2 {
			r = refresh(rt)
			secs, _ := strconv.Atoi(r.Header.Get("Retry-After"))
			if r.StatusCode != http.StatusTooManyRequests || r.json(t)["error"] != "slow_down" || secs < 1 || secs > 15 {
				t.Fatalf("refresh over the budget: %d Retry-After %q %s", r.StatusCode, r.Header.Get("Retry-After"), r.body)
			}
		}
		if r := client().token("bob", testPassword, "", "X-Forwarded-For", from()); r.StatusCode != http.StatusTooManyRequests {
			t.Errorf("a login over the budget: %d %s", r.StatusCode, r.body)
		}
		// Another user, from the address bob used last, is served.
		last := fmt.Sprintf("2001:db8:%x::1", n)
		r = client().token("alice", testPassword, "", "X-Forwarded-For", last)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("alice during bob's refusals: %d %s", r.StatusCode, r.body)
		}
		r = client().postForm("/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "refresh_token": {r.json(t)["refresh_token"].(string)}},
			"X-Forwarded-For", last)
		if r.StatusCode != http.StatusOK {
			t.Errorf("alice's refresh: %d %s", r.StatusCode, r.body)
		}
	})
}

// TestSessionBudgetPerUser: POST /login creates a session record, kept
// for the idle timeout, as POST /token creates a refresh token: one
// account signing in from a fresh IPv6 /64 each time, which no budget per
// address holds, filled the memory store's bound (then every other
// user's login got 503) or Redis without end. Logins count with the
// user's tokens (TokenRate): over it, 429 with Retry-After, and no
// session; another user signs in.
func TestSessionBudgetPerUser(t *testing.T) {
	t.Parallel()
	srv := start(t, func(c *app.Config) {
		c.ClientIP = trustLoopback(t)
		c.CredentialRate = 3 // per address: never reached
		c.TokenRate = 4
	})
	n := 0
	from := func() string { n++; return fmt.Sprintf("2001:db8:%x::1", n) }
	login := func(c *client, user string) response {
		tok := c.csrfToken()
		return c.postForm("/login", url.Values{"csrf_token": {tok}, "username": {user}, "password": {testPassword}},
			"Origin", c.base, "Sec-Fetch-Site", "same-origin", "X-Forwarded-For", from())
	}
	for i := range 3 {
		if r := login(srv.client(t), "carol"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("login %d within the budget: %d %s", i+1, r.StatusCode, r.body)
		}
	}
	if r := srv.client(t).token("carol", testPassword, "", "X-Forwarded-For", from()); r.StatusCode != http.StatusOK {
		t.Fatalf("a token within the budget: %d %s", r.StatusCode, r.body)
	}
	c := srv.client(t)
	r := login(c, "carol")
	secs, _ := strconv.Atoi(r.Header.Get("Retry-After"))
	if r.StatusCode != http.StatusTooManyRequests || secs < 1 || secs > 15 || r.json(t)["request_id"] == nil {
		t.Fatalf("a login over the budget: %d Retry-After %q %s", r.StatusCode, r.Header.Get("Retry-After"), r.body)
	}
	if r := c.get("/data"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("the refused login's browser: %d %s", r.StatusCode, r.body)
	}
	if r := login(srv.client(t), "bob"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("bob during carol's refusals: %d %s", r.StatusCode, r.body)
	}
}

// TestRevocationEndsTheTokensOnEveryInstance: a logged-in user's access
// token and refresh token, revoked at POST /token/revoke, stop working at
// once: the access token gets 401 invalid_token and the refresh token
// invalid_grant. With Redis they are revoked on one instance and refused
// on both, and its access token is refused even by the instance that had
// verified it before. The user's other login, another refresh token
// family, goes on working.
func TestRevocationEndsTheTokensOnEveryInstance(t *testing.T) {
	t.Parallel()
	onInstances(t, nil, func(t *testing.T, servers []*testServer, _ *logBuffer) {
		login, revoker := servers[0].client(t), servers[len(servers)-1].client(t)
		pair := func() (access, refresh string) {
			t.Helper()
			r := login.token("bob", testPassword, "")
			if r.StatusCode != http.StatusOK {
				t.Fatalf("login: %d %s", r.StatusCode, r.body)
			}
			tok := r.json(t)
			return tok["access_token"].(string), tok["refresh_token"].(string)
		}
		access, refresh := pair()
		otherAccess, otherRefresh := pair()
		// Verified before the revocation, on every instance: a cached
		// verification must not outlive it.
		for i, s := range servers {
			if r := s.client(t).get("/users/me/", "Authorization", "Bearer "+access); r.StatusCode != http.StatusOK {
				t.Fatalf("instance %d, before the revocation: %d %s", i, r.StatusCode, r.body)
			}
		}
		for what, tok := range map[string]string{"access token": access, "refresh token": refresh} {
			r := revoker.postForm("/token/revoke", url.Values{"client_id": {app.ClientID}, "token": {tok}})
			if r.StatusCode != http.StatusOK || len(r.body) != 0 || r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("revoking the %s: %d %q, Cache-Control %q", what, r.StatusCode, r.body, r.Header.Get("Cache-Control"))
			}
		}
		for i, s := range servers {
			c := s.client(t)
			if r := c.get("/users/me/", "Authorization", "Bearer "+access); r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("instance %d, the revoked access token: %d %q", i, r.StatusCode, r.Header.Get("WWW-Authenticate"))
			}
			r := c.postForm("/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "refresh_token": {refresh}})
			if r.StatusCode != http.StatusBadRequest || r.json(t)["error"] != "invalid_grant" {
				t.Errorf("instance %d, the revoked refresh token: %d %s", i, r.StatusCode, r.body)
			}
			if r := c.get("/users/me/", "Authorization", "Bearer "+otherAccess); r.StatusCode != http.StatusOK {
				t.Errorf("instance %d, the access token of bob's other login: %d %s", i, r.StatusCode, r.body)
			}
		}
		r := servers[len(servers)-1].client(t).postForm("/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "refresh_token": {otherRefresh}})
		if r.StatusCode != http.StatusOK {
			t.Errorf("the refresh token of bob's other login: %d %s", r.StatusCode, r.body)
		}
	})
}
