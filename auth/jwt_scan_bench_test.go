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
