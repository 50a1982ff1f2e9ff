package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

// fuzzSeeds returns tokens from the attack table and valid tokens.
func fuzzSeeds(t testing.TB) []string {
	k := keysOnce()
	good := sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, goodClaims())
	p := strings.Split(good, ".")
	return []string{
		good,
		p[0] + "." + p[1] + ".",
		seg(map[string]any{"alg": "none"}) + "." + p[1] + ".",
		sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "../../dev/null"}, goodClaims()),
		signRaw(t, jwt.SigningMethodHS256, k.hmac, rawSeg(`{"alg":"HS256","kid":"k1","alg":"none"}`), p[1]),
		signRaw(t, jwt.SigningMethodHS256, k.hmac, rawSeg(`{"alg":"HS256","kid":"k\u0031"}`), p[1]),
		signRaw(t, jwt.SigningMethodHS256, k.hmac, p[0], rawSeg(`{"sub":"a","exp":1e99,"iss":"https://issuer.example","aud":["api://orders"]}`)),
		sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1", "crit": []string{"b64"}}, goodClaims()),
		"a.b.c", "..", "", "=", strings.Repeat("a", 100),
	}
}

func fuzzJWT(t testing.TB) *auth.JWT {
	k := keysOnce()
	return newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k1", Key: k.hmac}}, MaxTokenBytes: 4096, CookieName: "at"})
}

// FuzzBearerExtraction feeds arbitrary Authorization and Cookie headers
// through the middleware: it never panics, never answers other than 200
// or 401, and the reason of a rejection is always one of the package's.
func FuzzBearerExtraction(f *testing.F) {
	for _, tok := range fuzzSeeds(f) {
		f.Add("Bearer "+tok, "")
		f.Add("bearer  "+tok, "at="+tok)
	}
	f.Add("Basic YTpi", "")
	f.Add("Bearer", "at=x; at=y")
	f.Add("Bearer a b", "")
	m := fuzzJWT(f)
	h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	f.Fuzz(func(t *testing.T, authz, cookie string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if authz != "" {
			r.Header["Authorization"] = []string{authz}
		}
		if cookie != "" {
			r.Header["Cookie"] = []string{cookie}
		}
		err := m.Check(r)
		if err != nil && !errors.Is(err, auth.ErrNoCredentials) && !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("reason %v is none of the package's", err)
		}
		if err2 := m.Check(r); (err == nil) != (err2 == nil) {
			t.Fatalf("inconsistent: %v then %v", err, err2)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if (err == nil) != (w.Code == 200) || (err != nil && w.Code != 401) {
			t.Fatalf("status %d for %v", w.Code, err)
		}
	})
}

// FuzzJWTVerify checks the verification path: no panic, only package
// reasons, and whatever it accepts golang-jwt accepts too with the same
// key, algorithm and claim checks (the pre-scan only ever narrows), under
// the kid of that key, and with the subject, scopes and roles that
// encoding/json reads in the signed claims (the scanner and encoding/json
// read one claims set alike), and only of a token without cnf in any
// spelling encoding/json reads (a token bound to a key is no bearer
// token). Each input is a token, taken as it is, and a JOSE header and
// claims set, signed with the key: a changed byte of a token almost
// always breaks its signature, so only the signed pair reaches the header
// and claims scanners with a valid signature.
func FuzzJWTVerify(f *testing.F) {
	header := `{"alg":"HS256","kid":"k1"}`
	claims := string(must(json.Marshal(goodClaims())))
	for _, tok := range fuzzSeeds(f) {
		f.Add(tok, header, claims)
	}
	for _, c := range []map[string]any{
		with(goodClaims(), "scope", nil), with(with(goodClaims(), "scope", nil), "scp", "a b  c"),
		with(with(goodClaims(), "scope", nil), "scp", []string{"a", "b"}), with(goodClaims(), "roles", "admin"),
		with(goodClaims(), "aud", []string{"x", "api://orders"}),
		with(goodClaims(), "realm_access", map[string]any{"roles": []string{"ops"}}),
		with(goodClaims(), "realm_access", map[string]any{"roles": "ops"}), with(goodClaims(), "realm_access", []string{"ops"}),
	} {
		f.Add("", header, string(must(json.Marshal(c))))
	}
	f.Add("", `{"alg":"HS256","kid":"k1","typ":"JWT"}`, strings.Replace(claims, `"sub":"alice"`, `"sub":"alice","sub":"bob"`, 1))
	f.Add("", `{"kid":"k\u0031","alg":"HS256"}`, strings.Replace(claims, `"sub":"alice"`, `"s\u0075b":"bob"`, 1))
	f.Add("", header, strings.Replace(claims, `"sub":"alice"`, `"sub":"al\u0069ce"`, 1))
	f.Add("", header, strings.Replace(claims, `"sub":"alice"`, `"sub":"alice","nba":1E72366340`, 1))
	for _, cnf := range []string{`"cnf":{"jkt":"x"}`, `"cnf":null`, `"CNF":{}`, `"c\u006ef":{"jkt":"x"}`, `"act":{"cnf":{}}`} {
		f.Add("", header, strings.Replace(claims, `"sub":"alice"`, `"sub":"alice",`+cnf, 1))
	}
	k := keysOnce()
	m := fuzzJWT(f)
	// Keycloak's realm roles: the verifier of a nested roles claim.
	nested := newJWT(f, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k1", Key: k.hmac}}, MaxTokenBytes: 4096, RolesClaimPath: []string{"realm_access", "roles"}})
	// The reference reads numbers as written (WithJSONNumber): a number
	// beyond a float64 in a claim the verifier does not read (1e400) is
	// accepted, as TestJWTIdentityClaimNumbersBeyondFloat64 keeps it in
	// an identity claim, where MapClaims' float64 refuses the token. The
	// numeric dates are still read as float64s, so exp 1e400 fails both.
	ref := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithIssuer("https://issuer.example"), jwt.WithAudience("api://orders"), jwt.WithTimeFunc(testClock), jwt.WithJSONNumber())
	check := func(t *testing.T, tok string) {
		id, err := m.Verify(context.Background(), tok)
		nid, nerr := nested.Verify(context.Background(), tok)
		if err != nil && nerr == nil {
			t.Fatalf("the nested roles verifier accepted a token the other refuses: %v", err)
		}
		if nerr != nil && !errors.Is(nerr, auth.ErrInvalidToken) {
			t.Fatalf("reason %v does not wrap ErrInvalidToken", nerr)
		}
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("reason %v does not wrap ErrInvalidToken", err)
			}
			return
		}
		if id.Subject() == "" {
			t.Fatal("accepted a token without subject")
		}
		claims := jwt.MapClaims{}
		parsed, err := ref.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return k.hmac, nil })
		if err != nil {
			t.Fatalf("accepted a token golang-jwt rejects: %v", err)
		}
		// The key is the one of ID "k1": the kid, as encoding/json reads
		// the header, names it.
		if kid, _ := parsed.Header["kid"].(string); kid != "k1" {
			t.Fatalf("accepted a token of kid %#v for the key k1", parsed.Header["kid"])
		}
		// No token bound to a key (RFC 7800 cnf) is taken for a bearer
		// token, however its member name is spelled: encoding/json reads
		// escapes in names, and matches a struct field's in any case.
		for name := range claims {
			if strings.EqualFold(name, "cnf") {
				t.Fatalf("accepted a token with a %q claim", name)
			}
		}
		// The identity is the one the signed claims name, as encoding/json
		// reads them.
		if sub, _ := claims["sub"].(string); id.Subject() != sub {
			t.Fatalf("subject %q, golang-jwt reads sub %#v", id.Subject(), claims["sub"])
		}
		if got, want := sortedSet(id.Scopes()), refScopes(t, claims); !slices.Equal(got, want) {
			t.Fatalf("scopes %q, the claims grant %q", got, want)
		}
		if got, want := sortedSet(id.Roles()), sortedSet(refStrings(t, claims["roles"])); !slices.Equal(got, want) {
			t.Fatalf("roles %q, the claims grant %q", got, want)
		}
		// The nested verifier refuses a token only for what it finds on
		// its path, and reads the roles there as encoding/json does.
		roles, ok := refNestedStrings(claims, "realm_access", "roles")
		switch {
		case !ok && nerr == nil:
			t.Fatalf("accepted realm_access %#v", claims["realm_access"])
		case ok && nerr != nil:
			t.Fatalf("refused a token the other accepts: %v", nerr)
		case ok:
			if got, want := sortedSet(nid.Roles()), sortedSet(roles); !slices.Equal(got, want) {
				t.Fatalf("nested roles %q, the claims grant %q", got, want)
			}
		}
	}
	f.Fuzz(func(t *testing.T, tok, header, claims string) {
		check(t, tok)
		check(t, signRaw(t, jwt.SigningMethodHS256, k.hmac, rawSeg(header), rawSeg(claims)))
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// refScopes reads the scopes of claims decoded by encoding/json: the
// scope string split at spaces, else scp, an array or a string split so.
func refScopes(t *testing.T, claims jwt.MapClaims) []string {
	if s, ok := claims["scope"].(string); ok && s != "" {
		return sortedSet(strings.Split(s, " "))
	}
	if s, ok := claims["scp"].(string); ok {
		return sortedSet(strings.Split(s, " "))
	}
	return sortedSet(refStrings(t, claims["scp"]))
}

// refStrings reads a claim that holds strings: a string alone or an
// array of strings; any other accepted value fails the test.
func refStrings(t *testing.T, v any) []string {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				t.Fatalf("accepted a claim of strings holding %#v", e)
			}
			out = append(out, s)
		}
		return out
	}
	t.Fatalf("accepted a claim of strings holding %#v", v)
	return nil
}

// refNestedStrings reads the strings at path in claims decoded by
// encoding/json, through objects: a missing or null member is none, and
// ok is false for a value of another type on the path or at its end.
func refNestedStrings(claims jwt.MapClaims, path ...string) (list []string, ok bool) {
	var v any = map[string]any(claims)
	for _, name := range path {
		if v == nil {
			return nil, true
		}
		o, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		v = o[name]
	}
	switch v := v.(type) {
	case nil:
		return nil, true
	case string:
		return []string{v}, true
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			list = append(list, s)
		}
		return list, true
	}
	return nil, false
}

// sortedSet returns the distinct non-empty strings of list, sorted.
func sortedSet(list []string) []string {
	out := slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == "" })
	slices.Sort(out)
	return slices.Compact(out)
}

// FuzzJWTVerifyAudiences checks a verifier with several accepted
// audiences: whatever it accepts golang-jwt accepts too with the same
// list (any one of them in aud), and its aud holds one of them; whatever
// the single-Audience verifier accepts, it accepts too; and its cache
// answers as the uncached verification does, token after token.
func FuzzJWTVerifyAudiences(f *testing.F) {
	k := keysOnce()
	for _, tok := range fuzzSeeds(f) {
		f.Add(tok)
	}
	for _, aud := range []any{"api://orders-v2", []string{"api://billing", "api://orders-v3"}, []string{"api://billing"}, "api://orders-v4"} {
		f.Add(sign(f, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, with(goodClaims(), "aud", aud)))
	}
	auds := []string{"api://orders", "api://orders-v2", "api://orders-v3"}
	single := fuzzJWT(f)
	opts := auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k1", Key: k.hmac}}, MaxTokenBytes: 4096,
		Issuer: "https://issuer.example", Audience: auds[0], Audiences: auds[1:]}
	multi := newJWT(f, opts)
	opts.CacheSize = 64
	cached := newJWT(f, opts)
	ref := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithIssuer("https://issuer.example"), jwt.WithAudience(auds...), jwt.WithTimeFunc(testClock), jwt.WithJSONNumber())
	f.Fuzz(func(t *testing.T, tok string) {
		_, err := multi.Verify(context.Background(), tok)
		for range 2 {
			if _, cerr := cached.Verify(context.Background(), tok); (cerr == nil) != (err == nil) || err != nil && !errors.Is(cerr, err) {
				t.Fatalf("cached: %v, uncached: %v", cerr, err)
			}
		}
		if _, serr := single.Verify(context.Background(), tok); serr == nil && err != nil {
			t.Fatalf("accepted with Audience alone, refused with Audiences too: %v", err)
		}
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("reason %v does not wrap ErrInvalidToken", err)
			}
			return
		}
		var claims jwt.RegisteredClaims
		if _, err := ref.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return k.hmac, nil }); err != nil {
			t.Fatalf("accepted a token golang-jwt rejects: %v", err)
		}
		if !slices.ContainsFunc(claims.Audience, func(a string) bool { return slices.Contains(auds, a) }) {
			t.Fatalf("accepted aud %q, none of %q", claims.Audience, auds)
		}
	})
}

// FuzzParseJWKS: any document parses without panic, and every key it
// returns is usable by NewJWT for some algorithm.
func FuzzParseJWKS(f *testing.F) {
	k := keysOnce()
	b, _ := k.ec.PublicKey.Bytes()
	f.Add(string(jwksDoc(ecJWK("ec", &k.ec.PublicKey))))
	f.Add(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"},{"kty":"OKP","crv":"Ed25519","x":"` + b64(b[1:33]) + `"}]}`)
	f.Add(`{"keys":[{"kty":"oct","k":"AAAA"}]}`)
	f.Add(`{"keys":null}`)
	f.Fuzz(func(t *testing.T, doc string) {
		keys, _ := auth.ParseJWKS([]byte(doc))
		for _, key := range keys {
			algs := []string{"EdDSA"}
			switch key.Key.(type) {
			case interface{ Size() int }: // *rsa.PublicKey
				algs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
			}
			if _, err := auth.NewJWT(auth.JWTOptions{Algorithms: algs, Keys: []auth.Key{key}}); err != nil {
				if _, err2 := auth.NewJWT(auth.JWTOptions{Algorithms: []string{"ES256", "ES384"}, Keys: []auth.Key{key}}); err2 != nil {
					t.Fatalf("parsed key unusable: %v / %v", err, err2)
				}
			}
		}
	})
}
