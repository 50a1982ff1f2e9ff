package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
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
