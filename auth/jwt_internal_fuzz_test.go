package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzJWTScanObject checks the allocation-free JSON scan against
// encoding/json: every object it accepts is valid JSON with exactly the
// members it found, none repeated.
func FuzzJWTScanObject(f *testing.F) {
	for _, s := range []string{
		`{"alg":"HS256","kid":"k1"}`, `{"alg":"HS256","alg":"none"}`, `{"a\u0062":1,"ab":2}`,
		`{"a":[1,{"b":null}],"c":-0.5e+3,"d":true}`, ` { } `, `{"a":1}x`, `[]`, `{"a":"\x01"}`,
		`{"a":01}`, `{"a":1.}`, `{"a":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ms [maxClaimMembers]jsonMember
		n, ok := scanObject(b, ms[:])
		if !ok {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("scanObject accepted invalid JSON %q", b)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("not an object: %q", b)
		}
		if len(m) != n {
			t.Fatalf("%d members found, encoding/json sees %d (duplicates?) in %q", n, len(m), b)
		}
		for i := range ms[:n] {
			raw, ok := m[string(ms[i].key(b))]
			if !ok {
				t.Fatalf("member %q not seen by encoding/json", ms[i].key(b))
			}
			if !ms[i].str && !bytes.Equal(bytes.TrimSpace(raw), ms[i].val(b)) {
				t.Fatalf("value %q, encoding/json %q", ms[i].val(b), raw)
			}
		}
	})
}

// FuzzJWTBase64 checks the strict decoder against the standard library's
// strict unpadded base64url.
func FuzzJWTBase64(f *testing.F) {
	for _, s := range []string{"", "QQ", "QR", "QUE", "QUF", "QUFB", "Q", "-_-_", "a+b/", "QQ=="} {
		f.Add(s)
	}
	strict := base64.RawURLEncoding.Strict()
	f.Fuzz(func(t *testing.T, s string) {
		buf := make([]byte, len(s))
		n, ok := b64Decode(buf, s)
		want, err := strict.DecodeString(s)
		if strings.ContainsAny(s, "\r\n") {
			// The standard decoder skips newlines; ours refuses them.
			if ok || b64Valid(s) {
				t.Fatalf("%q: newline accepted", s)
			}
			return
		}
		if ok != (err == nil) || ok != b64Valid(s) {
			t.Fatalf("%q: ok=%v valid=%v stdlib err=%v", s, ok, b64Valid(s), err)
		}
		if ok && !bytes.Equal(buf[:n], want) {
			t.Fatalf("%q: %x, want %x", s, buf[:n], want)
		}
	})
}

// FuzzJWTClaimDate checks the NumericDate decoder, whose whole-seconds
// fast path must agree with the strconv.ParseFloat reading golang-jwt
// uses, on every JSON number the scanner lets through.
func FuzzJWTClaimDate(f *testing.F) {
	for _, s := range []string{"0", "1", "1700000000", "999999999999999", "9999999999999999", "-1", "1.5", "1e3", "1700000000.999999", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(`{"exp":` + s + `}`)
		var ms [1]jsonMember
		if n, ok := scanObject(b, ms[:]); !ok || n != 1 || ms[0].str {
			return
		}
		v := ms[0].val(b)
		var got jwt.NumericDate
		_, err := claimDate(&ms[0], v, &got)
		fv, perr := strconv.ParseFloat(string(v), 64)
		if perr != nil || math.IsInf(fv, 0) || math.Abs(fv) > 1<<53 {
			if err == nil {
				t.Fatalf("%q accepted, ParseFloat reads %v, %v", v, fv, perr)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q refused: %v", v, err)
		}
		sec, frac := math.Modf(fv)
		if want := time.Unix(int64(sec), int64(frac*1e9)).Truncate(jwt.TimePrecision); !got.Time.Equal(want) {
			t.Fatalf("%q decoded as %v, want %v", v, got.Time, want)
		}
	})
}

// FuzzJWTClaims checks the claims decoder, which reads the payload of
// every token before its signature is checked, against encoding/json:
// whatever it accepts is a JSON object, and each claim it decodes holds
// what encoding/json reads from the member of exactly that name (claim
// names are case-sensitive, unlike encoding/json's field matching). The
// interning of the expected iss and of the accepted aud values (Audience
// and Audiences) and the skipped jti change no other claim, and refuse
// nothing the plain decoding accepts, whatever the configured iss and aud
// values are.
func FuzzJWTClaims(f *testing.F) {
	for _, s := range []string{
		`{"iss":"https://issuer.example","sub":"u1","aud":["api://orders"],"exp":1700000000,"jti":"j"}`,
		`{"iss":"https://issuer.exampl\u0065","aud":"api://orders","scope":"a b  c","scp":"x y"}`,
		`{"sub":null,"jti":null,"aud":null,"roles":[],"scp":["a","b\u0020c"]}`,
		`{"exp":1.5,"nbf":-1,"iat":1e3,"roles":["admin","\u0061dmin"]}`,
		`{"SUB":"x","sub":"y"}`, `{"sub":"a","sub":"b"}`, `{"s\u0075b":"x"}`, `{"exp":"1700000000"}`,
		`{"aud":[1]}`, `{"aud":["a",]}`, `{"roles":"r"}`, `{"sub":"\ud800"}`, `{"jti":5}`, `{}`, `[]`,
	} {
		f.Add([]byte(s), "https://issuer.example", "api://orders", "api://orders-v2")
	}
	f.Add([]byte(`{"iss":"t\u0031","aud":["t\u0031"]}`), `t\u0031`, `t\u0031`, "t1")
	f.Add([]byte(`{"aud":["api://orders-v2","api://orders"]}`), "", "api://orders", "api://orders-v2")
	f.Fuzz(func(t *testing.T, b []byte, iss, aud, aud2 string) {
		var plain accessClaims
		pooled := accessClaims{wantIss: iss, wantAud: []string{aud, aud2}, skipJTI: true}
		perr := pooled.UnmarshalJSON(b)
		if err := plain.UnmarshalJSON(b); err != nil {
			if perr == nil {
				t.Fatalf("%q: refused plainly (%v), accepted with the expected iss and aud", b, err)
			}
			return
		}
		if perr != nil {
			t.Fatalf("%q: accepted plainly, refused with the expected iss and aud: %v", b, perr)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("accepted %q, encoding/json: %v", b, err)
		}
		str := func(name string) string {
			var s string
			if raw, ok := m[name]; ok {
				if err := json.Unmarshal(raw, &s); err != nil {
					t.Fatalf("%q: claim %s decoded, encoding/json: %v", b, name, err)
				}
			}
			return s
		}
		list := func(name string) []string {
			var l jwt.ClaimStrings
			if raw, ok := m[name]; ok {
				if err := json.Unmarshal(raw, &l); err != nil {
					t.Fatalf("%q: claim %s decoded, encoding/json: %v", b, name, err)
				}
			}
			return l
		}
		date := func(name string) *jwt.NumericDate {
			raw, ok := m[name]
			if !ok {
				return nil
			}
			var d *jwt.NumericDate
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatalf("%q: claim %s decoded, encoding/json: %v", b, name, err)
			}
			return d
		}
		sameDate := func(name string, got *jwt.NumericDate) {
			want := date(name)
			if (got == nil) != (want == nil) || got != nil && !got.Time.Equal(want.Time) {
				t.Fatalf("%q: %s = %v, encoding/json %v", b, name, got, want)
			}
		}
		for _, c := range []struct {
			name      string
			got, want string
		}{
			{"iss", plain.Issuer, str("iss")}, {"sub", plain.Subject, str("sub")},
			{"jti", plain.ID, str("jti")}, {"scope", plain.Scope, str("scope")},
		} {
			if c.got != c.want {
				t.Fatalf("%q: %s = %q, encoding/json %q", b, c.name, c.got, c.want)
			}
		}
		var scp []string
		if raw, ok := m["scp"]; ok && len(raw) > 0 && raw[0] == '"' {
			// A space-delimited list (RFC 8693 §4.2); other white space
			// is part of a scope.
			for sc := range strings.SplitSeq(str("scp"), " ") {
				if sc != "" {
					scp = append(scp, sc)
				}
			}
		} else {
			scp = list("scp")
		}
		for _, c := range []struct {
			name      string
			got, want []string
		}{
			{"aud", plain.Audience, list("aud")}, {"roles", plain.Roles, list("roles")}, {"scp", plain.Scp, scp},
		} {
			if !slices.Equal(c.got, c.want) {
				t.Fatalf("%q: %s = %q, encoding/json %q", b, c.name, c.got, c.want)
			}
		}
		sameDate("exp", plain.ExpiresAt)
		sameDate("nbf", plain.NotBefore)
		sameDate("iat", plain.IssuedAt)
		if pooled.Issuer != plain.Issuer || !slices.Equal(pooled.Audience, plain.Audience) || pooled.Subject != plain.Subject {
			t.Fatalf("%q: interning changed iss/aud/sub: %q %q %q", b, pooled.Issuer, pooled.Audience, pooled.Subject)
		}
	})
}

// FuzzQueryToken checks queryToken against net/url: on a query that
// url.ParseQuery reads, the access_token values are those it finds, the
// last one returned; on any query, the pairs counted are exactly those
// whose name url.QueryUnescape decodes to access_token, and ok is false
// exactly for such a pair whose value does not decode or that is joined
// to others by semicolons.
func FuzzQueryToken(f *testing.F) {
	for _, s := range []string{
		"access_token=abc", "a=1&access_token=x%2By&b=%", "access_token=a&access_token=b", "q=100%&access_token=t",
		"%61ccess_token=t", "access%5Ftoken=t", "access_token=%zz", "a=1;access_token=t", "access_token", "access+token=t",
		"access_token%=t", "&&access_token=&", "x;y&access_token=t",
	} {
		f.Add(s)
	}
	named := func(pair string) bool {
		k, _, _ := strings.Cut(pair, "=")
		u, err := url.QueryUnescape(k)
		return err == nil && u == "access_token"
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tok, n, ok := queryToken(raw)
		wantTok, wantN, wantOK := "", 0, true
	pairs:
		for pair := range strings.SplitSeq(raw, "&") {
			if strings.Contains(pair, ";") {
				for part := range strings.SplitSeq(pair, ";") {
					if named(part) {
						wantOK = false
						break pairs
					}
				}
				continue
			}
			if !named(pair) {
				continue
			}
			_, v, _ := strings.Cut(pair, "=")
			u, err := url.QueryUnescape(v)
			if err != nil {
				wantOK = false
				break
			}
			wantTok, wantN = u, wantN+1
		}
		if !wantOK {
			wantTok, wantN = "", 0
		}
		if tok != wantTok || n != wantN || ok != wantOK {
			t.Fatalf("queryToken(%q) = %q, %d, %v; want %q, %d, %v", raw, tok, n, ok, wantTok, wantN, wantOK)
		}
		if vals, err := url.ParseQuery(raw); err == nil {
			v := vals["access_token"]
			if !ok || n != len(v) || n > 0 && tok != v[len(v)-1] {
				t.Fatalf("queryToken(%q) = %q, %d, %v; url.ParseQuery finds %q", raw, tok, n, ok, v)
			}
		}
	})
}
