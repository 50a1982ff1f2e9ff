package app_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/examples/secureapi/app"
	"github.com/httpguard/httpguard/internal/testenv"
)

// TestRedisOutageFailsClosed: with Redis down, an instance refuses what it
// cannot check with 503 and Retry-After, a problem with the request ID:
// a password on each of its routes, a refresh, a revocation, a bearer
// token (the denylist), a session and a logout. Only the request budgets
// fail open, so the health check still answers. A token and a session
// made before the outage are presented to an instance of the same service
// whose Redis is down.
func TestRedisOutageFailsClosed(t *testing.T) {
	t.Parallel()
	live := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)), MaxRetries: -1})
	t.Cleanup(func() { live.Close(); down.Close() })
	logs := new(logBuffer)
	cfg := newConfig(t, logs)
	cfg.Redis = live
	up := startWith(t, cfg, logs)
	tok := up.client(t).token("bob", testPassword, "").json(t)
	access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)
	signedIn := up.sessionClient(t, "bob")
	csrfToken := signedIn.csrfToken()
	cfg.Redis = down
	srv := startWith(t, cfg, logs)
	c := srv.client(t)
	// The session and CSRF cookies of bob's browser, for the instance
	// whose Redis is down (cookies ignore ports).
	u, _ := url.Parse(up.URL)
	session := srv.client(t)
	session.hc.Jar.SetCookies(u, signedIn.hc.Jar.Cookies(u))

	for what, r := range map[string]response{
		"POST /token":             c.token("bob", testPassword, ""),
		"POST /token, refresh":    c.postForm("/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "refresh_token": {refresh}}),
		"POST /token/revoke":      c.postForm("/token/revoke", url.Values{"client_id": {app.ClientID}, "token": {access}}),
		"POST /login":             c.postForm("/login", url.Values{"username": {"bob"}, "password": {testPassword}}),
		"GET /secure-data/":       c.get("/secure-data/", "Authorization", "Basic "+basic("bob", testPassword)),
		"GET /users/me/, a token": c.get("/users/me/", "Authorization", "Bearer "+access),
		"GET /users/me/, session": session.get("/users/me/"),
		"GET /data":               session.get("/data"),
		"POST /logout":            session.postForm("/logout", url.Values{"csrf_token": {csrfToken}}, "Origin", srv.URL),
	} {
		if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Errorf("%s with Redis down: %d, Retry-After %q, want 503 with Retry-After", what, r.StatusCode, r.Header.Get("Retry-After"))
		}
		checkSecurityHeaders(t, what, r)
		checkProblem(t, what, r)
	}
	if r := c.get("/healthz"); r.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz with Redis down: %d, want 200", r.StatusCode)
	}
	// Nothing was ended by the outage: back on the instance that reaches
	// Redis, the session and the tokens still work.
	if r := signedIn.get("/data"); r.StatusCode != http.StatusOK {
		t.Errorf("the session after the refused logout: %d", r.StatusCode)
	}
	if r := up.client(t).get("/users/me/", "Authorization", "Bearer "+access); r.StatusCode != http.StatusOK {
		t.Errorf("the access token after the refused revocation: %d", r.StatusCode)
	}
}
