package redisstore_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/internal/redistest"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/auth/redisstore"
	"github.com/httpguard/httpguard/identity"
)

// TestTwoInstancesShareState runs two token endpoints and two bearer
// middlewares, as two instances of a service would, on one Redis: a
// refresh token rotated on one instance and replayed on the other revokes
// the family, and an access token revoked on one is refused by the other.
// It runs on a Redis server and on a Redis Cluster (found in review: a
// cluster refused the refresh store's scripts, so every refresh got 503).
func TestTwoInstancesShareState(t *testing.T) {
	t.Run("redis", func(t *testing.T) { testTwoInstancesShareState(t, newClient(t)) })
	t.Run("redis cluster", func(t *testing.T) { testTwoInstancesShareState(t, redistest.Cluster(t)) })
}

func testTwoInstancesShareState(t *testing.T, rdb redis.UniversalClient) {
	refresh, _ := redisstore.NewRefreshStore(redisstore.Options{Client: rdb})
	deny, _ := redisstore.NewDenylist(redisstore.Options{Client: rdb})
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	hasher := password.MustNew(password.Options{Params: password.Params{Memory: 64, Time: 1, Threads: 1}, DangerouslyAllowWeakParams: true})
	hash, _ := hasher.Hash("pw")
	users := auth.NewMemoryUsers()
	if err := users.Add("alice", auth.User{Hash: hash, Identity: identity.Options{Scopes: []string{"read"}}}); err != nil {
		t.Fatal(err)
	}

	var servers [2]*httptest.Server
	var bearers [2]*auth.JWT
	for i := range servers {
		iss, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "k", Algorithm: auth.AlgEdDSA, Key: priv}, Issuer: "https://i.example"})
		if err != nil {
			t.Fatal(err)
		}
		ep, err := auth.NewTokenEndpoint(auth.TokenEndpointOptions{
			Issuer: iss, Users: users, Hasher: hasher, RefreshStore: refresh,
			Clients: []auth.Client{{ID: "web", Public: true, Grants: []string{auth.GrantPassword, auth.GrantRefreshToken}, Scopes: []string{"read"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		bearers[i], err = auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{iss.VerificationKey()}, Issuer: "https://i.example", Denylist: deny})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("POST /token", ep)
		mux.Handle("GET /me", bearers[i].Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
		servers[i] = httptest.NewServer(mux)
		defer servers[i].Close()
	}
	post := func(i int, v url.Values) (int, map[string]any) {
		v.Set("client_id", "web")
		resp, err := http.Post(servers[i].URL+"/token", "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	get := func(i int, tok string) int {
		req, _ := http.NewRequest(http.MethodGet, servers[i].URL+"/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	code, first := post(0, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"pw"}})
	if code != 200 {
		t.Fatalf("login: %d %v", code, first)
	}
	rt1 := first["refresh_token"].(string)
	code, second := post(1, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}})
	if code != 200 {
		t.Fatalf("refresh on the other instance: %d %v", code, second)
	}
	if code, body := post(0, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}}); code != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("replay: %d %v", code, body)
	}
	if code, body := post(1, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second["refresh_token"].(string)}}); code != 400 {
		t.Fatalf("family survived the replay: %d %v", code, body)
	}

	at := second["access_token"].(string)
	if get(0, at) != 200 || get(1, at) != 200 {
		t.Fatal("access token refused before revocation")
	}
	if err := bearers[0].Revoke(t.Context(), at); err != nil {
		t.Fatal(err)
	}
	if c := get(1, at); c != 401 {
		t.Fatalf("other instance after revocation: %d", c)
	}

	// A revocation whose client hangs up as it runs (a logout from a tab
	// being closed) still takes effect: with the cancelled request
	// context, go-redis gave up the commands before sending them and the
	// token lived on.
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	at = first["access_token"].(string)
	if err := bearers[0].Revoke(gone, at); err != nil {
		t.Fatalf("revocation with the context of a client that hung up: %v", err)
	}
	if c := get(1, at); c != 401 {
		t.Fatalf("after a revocation whose client hung up: %d", c)
	}
}
