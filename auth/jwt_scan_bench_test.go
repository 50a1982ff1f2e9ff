package auth

import (
	"strings"
	"testing"
)

// BenchmarkJWTScanObject measures the JSON scan every token's header and
// claims go through before golang-jwt parses them, on a typical claims
// set and on a claims set of nested arrays and objects.
func BenchmarkJWTScanObject(b *testing.B) {
	nested := `{"sub":"u1","x":` + strings.Repeat(`[{"a":[1,2,3],"b":{"c":null,"d":"e"}},`, maxJSONDepth/2-1) +
		`1` + strings.Repeat(`]`, maxJSONDepth/2-1) + `,"exp":1700000000}`
	for _, c := range []struct{ name, json string }{
		{"typical", `{"iss":"https://issuer.example","sub":"user-1","aud":["api","web"],"exp":1700000000,"iat":1699990000,"scope":"read write","roles":["admin","ops"]}`},
		{"nested", nested},
	} {
		b.Run("case="+c.name, func(b *testing.B) {
			in := []byte(c.json)
			var ms [maxClaimMembers]jsonMember
			if _, ok := scanObject(in, ms[:]); !ok {
				b.Fatalf("scanObject rejected %s", c.json)
			}
			b.ReportAllocs()
			for b.Loop() {
				scanObject(in, ms[:])
			}
		})
	}
}

// BenchmarkJWTClaimsDecode measures the typed decoding of a claims set
// (the scan, then the claims read from it), on a typical access token and
// on one with sixty claims the middleware does not read, each of which
// is checked for a cnf.
func BenchmarkJWTClaimsDecode(b *testing.B) {
	many := `{"sub":"u1","exp":1700000000`
	for i := range 60 {
		many += `,"c` + strings.Repeat("x", i%7) + string(rune('A'+i%26)) + string(rune('a'+i/26)) + `":"vvvvvvvvvvvvvvvvvvvv"`
	}
	many += `}`
	for _, c := range []struct{ name, json string }{
		{"typical", `{"iss":"https://issuer.example","sub":"user-1","aud":["api","web"],"exp":1700000000,"iat":1699990000,"scope":"read write","roles":["admin","ops"]}`},
		{"many-claims", many},
	} {
		b.Run("case="+c.name, func(b *testing.B) {
			in := []byte(c.json)
			var cl accessClaims
			if err := cl.UnmarshalJSON(in); err != nil {
				b.Fatalf("UnmarshalJSON: %v", err)
			}
			b.ReportAllocs()
			for b.Loop() {
				cl = accessClaims{wantIss: "https://issuer.example", wantAud: []string{"api"}, skipJTI: true}
				cl.UnmarshalJSON(in)
			}
		})
	}
}
