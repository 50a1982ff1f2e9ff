package auth_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

// TestIssuerGrantClaims: a Grant's Claims are written after the issuer's
// own, read back through JWTOptions.IdentityClaims; a reserved or empty
// name, or a value JSON cannot encode, is an error, so that a claim can
// never grant a scope (scp, which the verifier reads when scope is absent)
// or a role, nor change the token's subject, audience or lifetime.
func TestIssuerGrantClaims(t *testing.T) {
	k := keysOnce()
	iss, err := auth.NewIssuer(auth.WithIssuerClock(auth.IssuerOptions{Key: auth.Key{ID: "ed", Algorithm: auth.AlgEdDSA, Key: k.ed}, Issuer: "https://issuer.example", Audience: []string{"api://orders"}}, testClock))
	if err != nil {
		t.Fatal(err)
	}
	at, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice", Claims: map[string]any{
		"tenant": "acme", "seats": 12, "flags": []string{"beta"}, "html": "<b>&",
	}})
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(at.Token, claims); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]any{"tenant": "acme", "seats": 12, "flags": []any{"beta"}, "html": "<b>&", "sub": "alice", "jti": at.ID} {
		if got := claims[name]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{iss.VerificationKey()}, IdentityClaims: []string{"tenant"}})
	id, err := m.Verify(context.Background(), at.Token)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := id.Claim("tenant"); v != "acme" || id.NumScopes() != 0 {
		t.Errorf("identity: tenant %v, scopes %v", v, id.Scopes())
	}

	bad := map[string]map[string]any{"empty name": {"": 1}, "NaN": {"x": math.NaN()}, "a channel": {"x": make(chan int)}}
	for _, name := range auth.ReservedClaims() {
		bad[name] = map[string]any{name: "admin"}
	}
	for what, c := range bad {
		if _, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice", Claims: c}); err == nil {
			t.Errorf("Grant.Claims with %s: issued", what)
		}
	}
	// scp in particular: the verifier reads it as the scopes of a token
	// without a scope claim.
	if _, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice", Claims: map[string]any{"scp": []string{"orders:write"}}}); err == nil {
		t.Error("a Grant claim scp was issued")
	}
}

// TestTokenEndpointClaims: TokenEndpointOptions.Claims adds claims to the
// tokens of every grant, and is asked before a refresh token is rotated:
// when it fails (503) or returns a claim Issue refuses (500), the client's
// refresh token still works afterwards.
func TestTokenEndpointClaims(t *testing.T) {
	var fail, reserved atomic.Bool
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) {
		o.Claims = func(_ context.Context, g auth.Grant) (map[string]any, error) {
			if fail.Load() {
				return nil, errors.New("tenant store down")
			}
			if reserved.Load() {
				return map[string]any{"roles": []string{"admin"}}, nil
			}
			return map[string]any{"who": g.Subject + "@" + g.ClientID}, nil
		}
	})
	claim := func(res tokenResult) any {
		t.Helper()
		if res.status != 200 {
			t.Fatalf("%d %s (%v)", res.status, res.raw, res.reason)
		}
		c := jwt.MapClaims{}
		if _, _, err := jwt.NewParser().ParseUnverified(res.str("access_token"), c); err != nil {
			t.Fatal(err)
		}
		return c["who"]
	}
	pw := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse"), basicAuth("cli", "cli-secret"))
	if got := claim(pw); got != "alice@cli" {
		t.Errorf("password grant: who = %v", got)
	}
	rt := pw.str("refresh_token")
	if got := claim(f.post(t, form("grant_type", "client_credentials"), basicAuth("batch", "batch secret/+="))); got != "client:batch@batch" {
		t.Errorf("client credentials: who = %v", got)
	}

	fail.Store(true)
	res := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt), basicAuth("cli", "cli-secret"))
	if res.status != 503 || res.str("error") != "temporarily_unavailable" {
		t.Errorf("the hook failing: %d %s", res.status, res.raw)
	}
	fail.Store(false)
	reserved.Store(true)
	res = f.post(t, form("grant_type", "refresh_token", "refresh_token", rt), basicAuth("cli", "cli-secret"))
	if res.status != 500 || res.str("error") != "server_error" {
		t.Errorf("the hook returning roles: %d %s", res.status, res.raw)
	}
	reserved.Store(false)
	res = f.post(t, form("grant_type", "refresh_token", "refresh_token", rt), basicAuth("cli", "cli-secret"))
	if got := claim(res); got != "alice@cli" {
		t.Errorf("refresh after the failures: who = %v", got)
	}
}

// TestIssuerGrantClaimsCaseVariants: a Grant claim whose name is a reserved
// one in another case ("EXP", "Aud", "Scope", or "ſub" with U+017F, which
// folds to s) is refused as the name itself is. encoding/json, which
// golang-jwt and most Go verifiers decode claims with, matches member names
// to struct fields without regard to case and lets the last one win: the
// variant, written after the issuer's own claims, replaced them there.
func TestIssuerGrantClaimsCaseVariants(t *testing.T) {
	k := keysOnce()
	iss, err := auth.NewIssuer(auth.WithIssuerClock(auth.IssuerOptions{Key: auth.Key{ID: "ed", Algorithm: auth.AlgEdDSA, Key: k.ed}, Issuer: "https://issuer.example", Audience: []string{"api://orders"}}, testClock))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		value any
	}{
		{"EXP", 4102444800},
		{"Exp", 4102444800},
		{"AUD", "api://payments"},
		{"Sub", "admin"},
		{"\u017fub", "admin"}, // ſub: U+017F folds to s
		{"ISS", "https://other.example"},
		{"Scope", "orders:write"},
		{"ROLES", []string{"admin"}},
		{"Client_ID", "other"},
	} {
		at, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice", Claims: map[string]any{tc.name: tc.value}})
		if err == nil {
			var c jwt.RegisteredClaims
			_, _, _ = jwt.NewParser().ParseUnverified(at.Token, &c)
			t.Errorf("Grant.Claims with %q issued; golang-jwt reads sub %q, aud %v, exp %v", tc.name, c.Subject, c.Audience, c.ExpiresAt)
		}
	}
}

// TestIssuerGrantClaimsTheVerifierRefuses: Issue refuses the Grant claims
// that would make a token this package's own JWT refuses as malformed: a
// name encoding/json escapes ("a<b", U+2028; the verifier refuses escaped
// member names, which hide duplicates), more claims than the verifier
// reads, or a value nested deeper than it scans. Such a token was issued,
// and every request that bore it was refused with 401. Claims that fit
// are issued and verify.
func TestIssuerGrantClaimsTheVerifierRefuses(t *testing.T) {
	k := keysOnce()
	iss, err := auth.NewIssuer(auth.WithIssuerClock(auth.IssuerOptions{Key: auth.Key{ID: "ed", Algorithm: auth.AlgEdDSA, Key: k.ed}, Issuer: "https://issuer.example", Audience: []string{"api://orders"}, TTL: 5 * time.Minute}, testClock))
	if err != nil {
		t.Fatal(err)
	}
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{iss.VerificationKey()}, Audience: "api://orders"})
	claimsOf := func(n int) map[string]any {
		c := make(map[string]any, n)
		for i := range n {
			c[fmt.Sprint("c", i)] = i
		}
		return c
	}
	// Every claim of the issuer's own is written: ten members.
	full := func(c map[string]any) auth.Grant {
		return auth.Grant{Subject: "alice", Scopes: []string{"orders:read"}, Roles: []string{"admin"}, ClientID: "web", Claims: c}
	}
	deep := func(levels int) any {
		var v any = 1
		for range levels {
			v = []any{v}
		}
		return v
	}
	fits := map[string]map[string]any{
		"a value with <, > and &":         {"html": "<b>&</b>"},
		"a name of other letters":         {"é": 1},
		"54 claims":                       claimsOf(54),
		"a value of 15 levels of nesting": {"deep": deep(15)},
	}
	for what, c := range fits {
		at, err := iss.Issue(context.Background(), full(c))
		if err != nil {
			t.Errorf("%s: %v", what, err)
			continue
		}
		if _, err := m.Verify(context.Background(), at.Token); err != nil {
			t.Errorf("%s: issued, and the token is refused: %v", what, err)
		}
	}
	refused := map[string]map[string]any{
		"a name with <":                   {"a<b": 1},
		"a name with &":                   {"a&b": 1},
		"a name with U+2028":              {"a\u2028": 1},
		"a name with a quote":             {`a"b`: 1},
		"a name with a backslash":         {`a\b`: 1},
		"a name with a control character": {"a\tb": 1},
		"a name of invalid UTF-8":         {"a\xffb": 1},
		"55 claims":                       claimsOf(55),
		"a value of 16 levels of nesting": {"deep": deep(16)},
	}
	for what, c := range refused {
		at, err := iss.Issue(context.Background(), full(c))
		if err == nil {
			_, verr := m.Verify(context.Background(), at.Token)
			t.Errorf("Grant.Claims with %s: issued, and the verifier says %v", what, verr)
		}
	}
}
