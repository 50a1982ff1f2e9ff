package errorsafe_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/errorsafe"
)

// redactQueryCases are shared with FuzzRedactQuery as seeds.
var redactQueryCases = []struct {
	name string
	in   string
	want string
}{
	{"an empty query stays empty", "", ""},
	{"harmless parameters are kept", "page=2&sort=name", "page=2&sort=name"},
	{"a password is redacted", "user=bob&password=hunter2", "user=bob&password=[REDACTED]"},
	{"OAuth parameters are redacted", "access_token=a&refresh_token=b&client_secret=c&code=d&state=e",
		"access_token=[REDACTED]&refresh_token=[REDACTED]&client_secret=[REDACTED]&code=[REDACTED]&state=e"},
	{"names match case-insensitively", "PassWord=x&API_KEY=y", "PassWord=[REDACTED]&API_KEY=[REDACTED]"},
	{"a dash reads as an underscore", "api-key=x&X-Auth-Token=y", "api-key=[REDACTED]&X-Auth-Token=[REDACTED]"},
	{"percent-encoded names are decoded", "pass%77ord=x&api%5Fkey=y", "pass%77ord=[REDACTED]&api%5Fkey=[REDACTED]"},
	{"names containing a sensitive word are redacted", "new_password=x&user[password]=y&csrf_token=z&id_token=w",
		"new_password=[REDACTED]&user[password]=[REDACTED]&csrf_token=[REDACTED]&id_token=[REDACTED]"},
	{"semicolons separate items too", "a=1;token=x", "a=1;token=[REDACTED]"},
	{"repeated parameters are all redacted", "token=a&token=b", "token=[REDACTED]&token=[REDACTED]"},
	{"a JWT value is redacted under any name", "q=eyJhbGciOiJIUzI1NiJ9.e30.x", "q=[REDACTED]"},
	{"a long bare item is redacted", "x&" + strings.Repeat("t", 40), "x&[REDACTED]"},
	{"a short bare item is kept", "debug&x=1", "debug&x=1"},
	{"an empty value stays redacted-free", "token=", "token=[REDACTED]"},
	{"empty items are kept", "a=1&&b=2&", "a=1&&b=2&"},
	// An item with an empty name is logged with its "=", redacted or not
	// (the changelog said so; only a fuzz seed met it).
	{"an item with an empty name is kept", "=value&a=1", "=value&a=1"},
	{"an item with an empty name keeps its = when redacted", "a=1&=eyJhbGciOi", "a=1&=[REDACTED]"},
	{"an overlong name is redacted whole", strings.Repeat("k", 70) + "=v", "[REDACTED]"},
	// "%" is not a letter or digit: "to%ken" reads as "token".
	{"a malformed escape does not panic", "to%ken=x&%=y&%zz=1&a=%", "to%ken=[REDACTED]&%=y&%zz=1&a=%"},
	{"a query longer than 1024 bytes is truncated",
		strings.Repeat("a=1&", 300), strings.Repeat("a=1&", 253) + "[TRUNCATED]"},
	{"one huge item is truncated", "q=" + strings.Repeat("x", 2000), "[TRUNCATED]"},
	{"only 4096 bytes are read and the item they cut is dropped",
		strings.Repeat("password="+strings.Repeat("x", 200)+"&", 19) + "q=" + strings.Repeat("y", 300),
		strings.Repeat("password=[REDACTED]&", 19) + "[TRUNCATED]"},
	{"a secret cut at 4096 bytes is dropped whole",
		strings.Repeat("a", 4090) + "&token=SECRETVALUE",
		"[REDACTED]&[TRUNCATED]"},
	// Found in review: secret names in camelCase or with other
	// separators than "-" and "_" were logged in clear.
	{"camelCase one-time codes are redacted",
		"verificationCode=1&resetCode=2&recoveryCode=3&smsCode=4&otpCode=5&pinCode=6",
		"verificationCode=[REDACTED]&resetCode=[REDACTED]&recoveryCode=[REDACTED]&smsCode=[REDACTED]&otpCode=[REDACTED]&pinCode=[REDACTED]"},
	{"camelCase keys are redacted", "accessKey=1&subscriptionKey=2&appKey=3&masterKey=4&accessKeyId=5",
		"accessKey=[REDACTED]&subscriptionKey=[REDACTED]&appKey=[REDACTED]&masterKey=[REDACTED]&accessKeyId=[REDACTED]"},
	{"any separator is ignored", "Pass-Word=1&api.key=2&api+key=3&user%20password=4&api%00key=5",
		"Pass-Word=[REDACTED]&api.key=[REDACTED]&api+key=[REDACTED]&user%20password=[REDACTED]&api%00key=[REDACTED]"},
	{"pwd, pass, pin and otp as a last word are redacted", "userPwd=1&db_pass=2&userPin=3&email-otp=4",
		"userPwd=[REDACTED]&db_pass=[REDACTED]&userPin=[REDACTED]&email-otp=[REDACTED]"},
	// Found in review: header names matched "passw", parameter names only
	// "password" and "passwd", so the German "Passwort" was logged; and
	// "pw", a common short name, was not recognised.
	{"passw in any language and pw are redacted", "Passwort=1&neues_passwort=2&passwords=3&pw=4&user_pw=5&newPw=6&pwa=7",
		"Passwort=[REDACTED]&neues_passwort=[REDACTED]&passwords=[REDACTED]&pw=[REDACTED]&user_pw=[REDACTED]&newPw=[REDACTED]&pwa=7"},
	{"CAS service tickets are redacted, ticket numbers kept", "ticket=ST-1-abc&serviceTicket=ST-2&proxy_ticket=PT-3&ticketId=42&tickets=7",
		"ticket=[REDACTED]&serviceTicket=[REDACTED]&proxy_ticket=[REDACTED]&ticketId=42&tickets=7"},
	{"SAML responses and assertions are redacted", "SAMLResponse=PHNhbWw&jwt_assertion=x",
		"SAMLResponse=[REDACTED]&jwt_assertion=[REDACTED]"},
	// Found in review: a card's security code, which PCI DSS forbids
	// storing after authorization, logs included, was logged in clear
	// (Rails filters cvv and cvc by default since rails/rails#52413).
	{"card security codes are redacted", "cvv=123&card_cvv=1&cvc=2&cvv2=3&CVC2=4&cardCvc=5&amount=9",
		"cvv=[REDACTED]&card_cvv=[REDACTED]&cvc=[REDACTED]&cvv2=[REDACTED]&CVC2=[REDACTED]&cardCvc=[REDACTED]&amount=9"},
	{"key words that are no keys are kept", "keyword=go&searchKeyword=go&keyboard=us&monkey=1&turkeys=2&hockey=3",
		"keyword=go&searchKeyword=go&keyboard=us&monkey=1&turkeys=2&hockey=3"},
	{"codes that are no secrets are kept", "postcode=1&zipCode=2&countryCode=US&error-code=E1&bypass=1",
		"postcode=1&zipCode=2&countryCode=US&error-code=E1&bypass=1"},
	// Found in review: a percent-encoded JWT and a URL with userinfo in
	// a value were logged.
	{"a percent-encoded JWT value is redacted", "x=%65yJhbGciOi&y=%65%79%4A0", "x=[REDACTED]&y=[REDACTED]"},
	{"the userinfo of a URL value is redacted", "next=https://u:hunter2@h/x&back=//u:pw@h",
		"next=https://[REDACTED]@h/x&back=//[REDACTED]@h"},
	{"a percent-encoded URL value with userinfo is redacted", "next=https%3A%2F%2Fu%3Ahunter2%40h%2Fx",
		"next=[REDACTED]"},
	{"a percent-encoded URL value in lower case with userinfo is redacted", "next=https%3a%2f%2fu%3ahunter2%40h%2fx",
		"next=[REDACTED]"},
	{"a value starting with eyj is redacted as eyJ is", "q=eyjhbGciOi", "q=[REDACTED]"},
	{"a query of 4096 bytes is read whole",
		"a=1&password=" + strings.Repeat("x", 4096-13), "a=1&password=[REDACTED]"},
	{"a query of 4097 bytes is cut at 4096",
		"a=1&password=" + strings.Repeat("x", 4097-13), "a=1&[TRUNCATED]"},
	// Found in review: a secret one level down, in the query or fragment
	// of a URL carried by a value (a return address, a callback), or
	// after a "#" a client sent in the request target, was logged: only
	// the names of the top-level items were looked at.
	{"a secret in the query or fragment of a value is redacted",
		"next=https://app.example/cb?access_token=SECRET1&back=/reset?token=SECRET2&u=https%3A%2F%2Fh%2Fcb%23id_token%3DSECRET3&r=%2Fa%3Fk%3D%2565yJhbGc&a=1#access_token=SECRET4",
		"next=[REDACTED]&back=[REDACTED]&u=[REDACTED]&r=[REDACTED]&a=[REDACTED]"},
	{"a query or fragment in a value without a secret is kept", "next=/search?q=go%3F&u=https%3A%2F%2Fh%2Fx%3Fpage%3D2%23top&q=why?",
		"next=/search?q=go%3F&u=https%3A%2F%2Fh%2Fx%3Fpage%3D2%23top&q=why?"},
	{"base64 JSON after an escaped = in a short bare item is redacted", "a=1&state%3DeyJ1c2VyIjoi&b", "a=1&[REDACTED]&b"},
	{"URL values without userinfo are kept", "redirect_uri=https%3A%2F%2Fapp.example%2Fcb&next=https://h/x?e=a@b&email=a%40b.example",
		"redirect_uri=https%3A%2F%2Fapp.example%2Fcb&next=https://h/x?e=a@b&email=a%40b.example"},
}

func TestRedactQuery(t *testing.T) {
	m := errorsafe.MustNew(errorsafe.Options{RedactParams: []string{"Account-Number"}})
	for _, tt := range redactQueryCases {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.RedactQuery(tt.in); got != tt.want {
				t.Errorf("RedactQuery(%.80q) =\n%.200q\nwant\n%.200q", tt.in, got, tt.want)
			}
		})
	}
	t.Run("configured parameters are redacted", func(t *testing.T) {
		if got := m.RedactQuery("account_number=1&ACCOUNT-NUMBER=2"); got != "account_number=[REDACTED]&ACCOUNT-NUMBER=[REDACTED]" {
			t.Errorf("got %q", got)
		}
	})
	// Found in review: only "-" and "_" were read as the same.
	t.Run("configured parameters match in any spelling", func(t *testing.T) {
		if got := m.RedactQuery("accountNumber=1&account.number=2&account=3"); got != "accountNumber=[REDACTED]&account.number=[REDACTED]&account=3" {
			t.Errorf("got %q", got)
		}
	})
	// Found in review: common secret parameter names logged in clear.
	t.Run("access keys, PHP session IDs and passcodes are redacted", func(t *testing.T) {
		var z errorsafe.Middleware
		in := "subscription-key=a&access_key=b&PHPSESSID=c&passcode=d&mfa_code=f&reset-code=g&totp=h&sort=e&country_code=US&error_code=E42"
		want := "subscription-key=[REDACTED]&access_key=[REDACTED]&PHPSESSID=[REDACTED]&passcode=[REDACTED]&mfa_code=[REDACTED]&reset-code=[REDACTED]&totp=[REDACTED]&sort=e&country_code=US&error_code=E42"
		if got := z.RedactQuery(in); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("the zero Middleware uses the built-in lists", func(t *testing.T) {
		var z errorsafe.Middleware
		if got := z.RedactQuery("password=x&account_number=1"); got != "password=[REDACTED]&account_number=1" {
			t.Errorf("got %q", got)
		}
	})
}

// The logged query is at most 1024 bytes whatever its length, whether it
// is returned as it is or rebuilt with redactions and a truncation marker
// (mutations found that no test met either bound exactly).
func TestRedactQueryIsAtMost1024Bytes(t *testing.T) {
	var m *errorsafe.Middleware
	for n := 1000; n <= 1050; n++ {
		plain := "a=" + strings.Repeat("b", n-2)
		got := m.RedactQuery(plain)
		if len(got) > 1024 {
			t.Errorf("RedactQuery of a %d-byte query without secrets: %d bytes", n, len(got))
		}
		if n <= 1024 && got != plain {
			t.Errorf("RedactQuery of a %d-byte query without secrets changed it: %.40q", n, got)
		}
		for _, name := range []string{"token", "password"} {
			q := name + "=x&a=" + strings.Repeat("b", n-len(name)-5) + "&c=1"
			if got := m.RedactQuery(q); len(got) > 1024 || !strings.HasPrefix(got, name+"=[REDACTED]&") {
				t.Errorf("RedactQuery of a %d-byte query: %d bytes, %.40q", len(q), len(got), got)
			}
		}
	}
}

func TestRedactURL(t *testing.T) {
	var m errorsafe.Middleware
	tests := []struct {
		name, in, want string
	}{
		{"a plain URL is kept", "https://app.example/path", "https://app.example/path"},
		{"the query is redacted", "https://app.example/cb?code=abc&x=1", "https://app.example/cb?code=[REDACTED]&x=1"},
		{"userinfo is redacted", "https://user:pw@app.example/", "https://[REDACTED]@app.example/"},
		{"userinfo with @ in the password is redacted", "https://u:p@ss@app.example/x@y", "https://[REDACTED]@app.example/x@y"},
		{"a fragment is redacted", "https://app.example/#access_token=abc", "https://app.example/#[REDACTED]"},
		{"an empty fragment is dropped", "https://app.example/#", "https://app.example/"},
		{"a scheme-less authority with userinfo is redacted", "user:pw@host/x", "[REDACTED]@host/x"},
		{"an origin is kept", "https://app.example", "https://app.example"},
		// Found in review: the userinfo of a scheme-relative URL was kept.
		{"a scheme-relative URL's userinfo is redacted", "//bob:hunter2@app.example/x", "//[REDACTED]@app.example/x"},
		{"a scheme-relative URL without userinfo is kept", "//app.example/x@y", "//app.example/x@y"},
		{"a backslash authority's userinfo is redacted", `/\bob:pw@app.example/x`, `/\[REDACTED]@app.example/x`},
		{"a one-slash authority's userinfo is redacted", "https:/bob:pw@app.example", "https:/[REDACTED]@app.example"},
		{"a backslash ends the authority", `https://app.example\x@y`, `https://app.example\x@y`},
		{"a path with @ is kept", "/x@y", "/x@y"},
		// Found in review of the previous fix: a backslash ended the
		// authority for every scheme, and leading white space hid the
		// scheme.
		{"a backslash in a database URL's password", `postgres://admin:pa\ss@db.internal/x`, "postgres://[REDACTED]@db.internal/x"},
		{"a backslash in a Redis URL's password", `redis://:s3cr\et@cache:6379`, "redis://[REDACTED]@cache:6379"},
		{"leading white space", " https://bob:pw@app.example/x", " https://[REDACTED]@app.example/x"},
		{"an upper-case special scheme with backslashes", `HTTPS:\\bob:pw@app.example`, `HTTPS:\\[REDACTED]@app.example`},
		{"a special scheme without slashes", "https:bob:pw@app.example/x", "https:[REDACTED]@app.example/x"},
		{"a long path is cut", "https://a/" + strings.Repeat("p", 300), ("https://a/" + strings.Repeat("p", 300))[:256]},
		// Found in review: a 1 MB Referer was read whole, several times
		// over, to log 256 bytes of it: 7 to 9 ms per request for "@"s,
		// "?"s or tabs. Browsers send none over 4096 bytes.
		{"a URL of 8 KiB is read", "https://a/" + strings.Repeat("p", 8<<10-10), ("https://a/" + strings.Repeat("p", 300))[:256]},
		{"a URL over 8 KiB is redacted whole", "//h:1?" + strings.Repeat("?@", 5000), "[REDACTED]"},

		// Found in review: the redacted query dropped the "/" or "="
		// that kept the numeric-password reading off the "@" after
		// ";", so the logged text read as userinfo up to that "@".
		{"a redacted query that would read as a password", "//h:1?" + strings.Repeat("a", 32) + "/;x@", "[REDACTED]?[REDACTED];x@"},
		{"a redacted long name that would read as a password", "https://h:1?" + strings.Repeat("a", 65) + "=1;x@", "[REDACTED]?[REDACTED];x@"},
		{"a query with a short item before the @ is kept", "//h:1?a/;x@", "//h:1?a/;x@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Found in review of the previous fixes: tabs and newlines, which
// browsers drop, hid the authority, and a "?" or "#" in a password left
// half of it in the log. No form below may log the password.
func TestRedactURLNeverLogsThePassword(t *testing.T) {
	var m errorsafe.Middleware
	for _, in := range []string{
		"https:\t//bob:hunter2@app.example/x",
		"https:/\t/bob:hunter2@app.example/x",
		"ht\ttps://bob:hunter2@app.example/x",
		"https://bob:hunter2@app.example\t/x",
		"https://bob:hun#ter2@app.example/x",
		"https://bob:hun?ter2@app.example/x",
		"ssh:\t//bob:hunter2@app.example/x",
		" \x00https:\\\\bob:hunter2@app.example",
		"file:///bob:hunter2@x",
		"\t//bob:hunter2@app.example/",
		"HTTPS:bob:hunter2@app.example",
		"https:bob:hunter2@app.example",
		"postgres://admin:hunter2@db/x",
		// Found in review of the previous version: an empty port, a "/"
		// after the "?", no scheme, and "://" in the query or fragment.
		"https://bob:?hunter2@app.example/x",
		"https://bob:hun?te/r2@app.example/x",
		"bob:hun?ter2@app.example/x",
		"bob:hun#ter2@app.example/x",
		"bob:hunter2@app.example/x?next=https://a",
		"bob:hunter2@app.example/x#https://a",
		"s3://AKIA:hunter2/rest@bucket/x",
		// Left alone before: a password whose first part is a number
		// read as a port.
		"https://bob:1234?hunter2@app.example/x",
		"https://bob:1234#hunter2@app.example/x",
		"bob:1234?hunter2@app.example",
	} {
		if out := m.RedactURL(in); strings.Contains(out, "hunter2") || strings.Contains(out, "ter2") || strings.Contains(out, "hun") {
			t.Errorf("RedactURL(%q) = %q", in, out)
		}
	}
	// A host and port followed by a query with parameters holding an @ is
	// not userinfo, and neither are the colons of an IPv6 literal.
	for _, in := range []string{"https://api.example?email=a@b.example", "https://api.example:8443?email=a@b.example",
		"https://api.example:8443?q=1&to=a@b.example", "https://api.example:8443#/users/@me",
		"https://[::1]?email=a@b.example", "https://[2001:db8::1]#a@b.example", "http://[fe80::1%25eth0]?u=a@b"} {
		if out := m.RedactURL(in); !strings.HasPrefix(out, in[:strings.IndexAny(in, "?#")]) {
			t.Errorf("RedactURL(%q) = %q, want the host kept", in, out)
		}
	}
}

// Found in review: the JWTs of identity proxies' headers were logged in
// full.
func TestRedactHeaderJWT(t *testing.T) {
	var m errorsafe.Middleware
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"
	tests := []struct {
		name, header, value, want string
	}{
		{"Cloudflare Access", "Cf-Access-Jwt-Assertion", jwt, errorsafe.Redacted},
		{"Google IAP", "X-Goog-Iap-Jwt-Assertion", jwt, errorsafe.Redacted},
		{"AWS ALB OIDC", "X-Amzn-Oidc-Data", jwt, errorsafe.Redacted},
		{"DPoP proof", "DPoP", jwt, errorsafe.Redacted},
		{"a JWT header", "X-Jwt", jwt, errorsafe.Redacted},
		{"a JWT under any name", "X-Upstream", jwt, errorsafe.Redacted},
		{"a JWT after a scheme", "X-Forwarded-Creds", "Bearer " + jwt, errorsafe.Redacted},
		{"a JWT in a list", "X-Upstream", "a=1, b=" + jwt, errorsafe.Redacted},
		{"a percent-encoded JWT", "X-Upstream", "%65yJhbGciOi", errorsafe.Redacted},
		// Base64 JSON without the ".eyJ" of a JWT's claims, after an
		// encoded "=" or space, in a header that carries an encoded URL.
		{"base64 JSON after an encoded separator", "X-Upstream-Target", "/cb?state%3DeyJ1c2VyIjoiYWxpY2UifQ", errorsafe.Redacted},
		{"base64 JSON after an encoded separator in a forwarded target's query", "X-Original-Uri", "/cb?state%3DeyJ1c2VyIjoiYWxpY2UifQ", "/cb?[REDACTED]"},
		{"base64 JSON after an encoded space", "X-Forwarded-Creds", "Bearer%20eyJ1c2VyIjoiYWxpY2UifQ", errorsafe.Redacted},
		{"encoded base64 JSON after an encoded separator", "X-Upstream-Target", "/cb?t%3d%65yJhbGciOi", errorsafe.Redacted},
		{"encoded base64 JSON after an encoded separator in a forwarded target's query", "X-Original-Uri", "/cb?t%3d%65yJhbGciOi", "/cb?[REDACTED]"},
		{"eyJ after an encoded base64 byte is kept", "X-Checksum", "AA%2BeyJ", "AA%2BeyJ"},
		{"eyJ inside a word is kept", "X-Checksum", "AAAeyJ", "AAAeyJ"},
		{"a plain value is kept", "Accept-Language", "en-GB, eyes", "en-GB, eyes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.RedactHeader(tt.header, tt.value); got != tt.want {
				t.Errorf("RedactHeader(%q, %q) = %q, want %q", tt.header, tt.value, got, tt.want)
			}
		})
	}
}

func TestRedactHeader(t *testing.T) {
	m := errorsafe.MustNew(errorsafe.Options{RedactHeaders: []string{"x-tenant"}})
	tests := []struct {
		name, header, value, want string
	}{
		{"Authorization is redacted", "authorization", "Bearer x", errorsafe.Redacted},
		{"Proxy-Authorization is redacted", "Proxy-Authorization", "Basic x", errorsafe.Redacted},
		{"Cookie is redacted", "Cookie", "a=b", errorsafe.Redacted},
		{"Set-Cookie is redacted", "Set-Cookie", "a=b", errorsafe.Redacted},
		{"X-API-Key is redacted", "X-API-Key", "k", errorsafe.Redacted},
		{"a configured header is redacted", "X-Tenant", "t", errorsafe.Redacted},
		{"a header named like a token is redacted", "X-Amz-Security-Token", "t", errorsafe.Redacted},
		{"a header named like a session is redacted", "X-Session-ID", "s", errorsafe.Redacted},
		{"a DPoP header is redacted whatever its value", "DPoP", "not-a-jwt", errorsafe.Redacted},
		{"an OIDC header is redacted whatever its value", "X-Amzn-Oidc-Identity", "u-123", errorsafe.Redacted},
		// Found in review: one-time and MFA codes sent in headers (GitHub's
		// X-GitHub-OTP) were logged, though their parameters are redacted.
		{"a one-time password header is redacted", "X-GitHub-OTP", "123456", errorsafe.Redacted},
		{"an MFA header is redacted", "X-Mfa-Code", "123456", errorsafe.Redacted},
		{"a passcode header is redacted", "X-Passcode", "1234", errorsafe.Redacted},
		// Found in review: the parameters' words pwd and passphrase were
		// not the headers', so X-Db-Pwd was logged in clear.
		{"a pwd header is redacted", "X-Db-Pwd", "hunter2", errorsafe.Redacted},
		{"a passphrase header is redacted", "X-Key-Passphrase-Hint", "x", errorsafe.Redacted},
		{"a passphrase header without key is redacted", "X-Passphrase", "x", errorsafe.Redacted},
		{"Referer has its query redacted", "Referer", "https://a/?token=x", "https://a/?token=[REDACTED]"},
		// Found in review: the request target a proxy forwards (Traefik's
		// and nginx's forward authentication, IIS rewrites, Envoy) was
		// logged as a plain value, query secrets included, though the
		// same query in the request line is redacted.
		{"X-Forwarded-Uri has its query redacted", "X-Forwarded-Uri", "/cb?code=abc&page=2", "/cb?code=[REDACTED]&page=2"},
		{"X-Original-Uri has its query redacted", "X-Original-URI", "/reset?token=abc", "/reset?token=[REDACTED]"},
		{"X-Original-Url has its query redacted", "X-Original-URL", "https://h/x?password=abc", "https://h/x?password=[REDACTED]"},
		{"X-Rewrite-Url has its query redacted", "X-Rewrite-URL", "/x?api_key=abc", "/x?api_key=[REDACTED]"},
		{"X-Envoy-Original-Path has its query redacted", "X-Envoy-Original-Path", "/x?access_token=abc#f", "/x?access_token=[REDACTED]#[REDACTED]"},
		{"Accept is kept", "Accept", "text/html", "text/html"},
		{"a long value is cut", "X-Long", strings.Repeat("v", 300), strings.Repeat("v", 256)},
		// Found in review: bidi controls reordered log lines.
		{"bidi controls are replaced", "X-Note", "a\u202eb", "a\ufffdb"},
		{"bidi controls in a URL header are replaced", "Referer", "https://h/\u2066?q=\u202e", "https://h/\ufffd?q=\ufffd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.RedactHeader(tt.header, tt.value); got != tt.want {
				t.Errorf("RedactHeader(%q) = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}

func TestRedactValues(t *testing.T) {
	var m errorsafe.Middleware
	// Found in review: camelCase names and URLs with userinfo.
	in := url.Values{"user": {"bob"}, "password": {"a", "b"}, "note": {"eyJhbGciOi"},
		"resetCode": {"c"}, "next": {"https://u:pw@h/x"}, "back": {"https://h/x"}}
	got := m.RedactValues(in)
	want := url.Values{"user": {"bob"}, "password": {errorsafe.Redacted, errorsafe.Redacted}, "note": {errorsafe.Redacted},
		"resetCode": {errorsafe.Redacted}, "next": {"https://[REDACTED]@h/x"}, "back": {"https://h/x"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RedactValues = %v, want %v", got, want)
	}
	if in.Get("password") != "a" {
		t.Error("RedactValues modified its argument")
	}
}

// Found by the fuzzer: a long URL read one way before it was clipped to
// 256 bytes ("x:" with a "://" further on) and another way after, where
// it showed what looks like userinfo; the log showed it, and redacting
// the logged text again changed it. A URL that would read differently
// clipped is logged as [REDACTED]; this one, whose text before its first
// "/" has an "@", is now read from the start both ways (found by the
// fuzzer again: "bob:pw@host/x://" kept bob's password).
func TestRedactURLClippedReadsTheSame(t *testing.T) {
	var m errorsafe.Middleware
	in := "ht\ttob:" + strings.Repeat("a", 100) + "@" + strings.Repeat("b", 200) + "@app.example://be/x"
	out := m.RedactURL(in)
	if want := errorsafe.Redacted + "@app.example://be/x"; out != want {
		t.Errorf("RedactURL(%.40q…) = %.60q…, want %q", in, out, want)
	}
	if again := m.RedactURL(out); again != out {
		t.Errorf("not idempotent: %q -> %q", out, again)
	}
	// Clipped, these authorities end in a port that is no number
	// ("host:") or an unclosed IPv6 bracket, and the "@" of the query
	// logged after them reads as the end of a password holding "?": the
	// clipped URL is read with its query (found in review: redacting
	// the logged text again gave "//[REDACTED]@").
	for _, in := range []string{
		"//" + strings.Repeat("a", 253) + ":1?x=@",
		"//[" + strings.Repeat("1:", 127) + "]?x@",
	} {
		out := m.RedactURL(in)
		if !strings.HasPrefix(out, errorsafe.Redacted+"?") {
			t.Errorf("RedactURL(%.40q…) = %.60q…, want [REDACTED] and the query", in, out)
		}
		if again := m.RedactURL(out); again != out {
			t.Errorf("not idempotent: %q -> %q", out, again)
		}
	}
	// A long URL that reads the same clipped is clipped, not redacted.
	long := "https://app.example/" + strings.Repeat("p", 400)
	if out := m.RedactURL(long); out != long[:256] {
		t.Errorf("RedactURL(long) = %.60q…, want its first 256 bytes", out)
	}
}
