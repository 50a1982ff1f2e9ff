package auth_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/problem"
)

const wantChallenge = `Basic realm="restricted", charset="UTF-8"`

// whoami answers 200 with the identity in headers.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	id, ok := identity.FromRequest(r)
	if !ok {
		w.WriteHeader(http.StatusTeapot)
		return
	}
	w.Header().Set("X-Subject", id.Subject())
	w.Header().Set("X-Method", string(id.Method()))
	w.Header().Set("X-Roles", strings.Join(id.Roles(), ","))
	w.WriteHeader(http.StatusOK)
})

func basicValue(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

// testUsers returns a store with alice (argon2id), bob (bcrypt from
// golang.org/x/crypto) and carol, whose stored hash is corrupt.
func testUsers(t testing.TB) *auth.MemoryUsers {
	t.Helper()
	users := auth.NewMemoryUsers()
	h, err := fastHasher.Hash("wonderland")
	if err != nil {
		t.Fatal(err)
	}
	if err := users.Add("alice", auth.User{Hash: h, Identity: identity.Options{Roles: []string{"admin"}}}); err != nil {
		t.Fatal(err)
	}
	bc, err := bcrypt.GenerateFromPassword([]byte("builder"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := users.Add("bob", auth.User{Hash: string(bc), Identity: identity.Options{Subject: "user-2"}}); err != nil {
		t.Fatal(err)
	}
	if err := users.Add("carol", auth.User{Hash: h}); err != nil {
		t.Fatal(err)
	}
	return users
}

type basicSetup struct {
	basic   *auth.Basic
	hasher  *countingHasher
	users   *auth.MemoryUsers
	limiter *fakeLimiter
}

func newBasic(t testing.TB, mutate func(*auth.BasicOptions)) *basicSetup {
	t.Helper()
	s := &basicSetup{hasher: &countingHasher{h: fastHasher}, users: testUsers(t)}
	o := auth.BasicOptions{Users: s.users, Hasher: s.hasher}
	if mutate != nil {
		mutate(&o)
	}
	b, err := auth.NewBasic(o)
	if err != nil {
		t.Fatal(err)
	}
	s.basic = b
	if l, ok := o.Limiter.(*fakeLimiter); ok {
		s.limiter = l
	}
	s.hasher.calls.Store(0)
	s.hasher.worked.Store(0)
	return s
}

// do serves one request through h with the given Authorization values
// and returns the response and the recorded rejection reason.
func do(h http.Handler, authz ...string) (*httptest.ResponseRecorder, error) {
	r := httptest.NewRequest(http.MethodGet, "/secure-data/", nil)
	for _, v := range authz {
		r.Header.Add("Authorization", v)
	}
	ctx, reason := problem.WithReason(r.Context())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r.WithContext(ctx))
	return w, reason.Err()
}

func TestBasic(t *testing.T) {
	nonUTF8 := "Basic " + base64.StdEncoding.EncodeToString([]byte("al\xffice:wonderland"))
	tests := []struct {
		name    string
		authz   []string
		status  int
		reason  error
		subject string
		roles   string
		// worked is the number of hash verifications that did work.
		worked int64
	}{
		{name: "the right password authenticates", authz: []string{basicValue("alice", "wonderland")}, status: 200, subject: "alice", roles: "admin", worked: 1},
		{name: "a bcrypt hash from another implementation authenticates", authz: []string{basicValue("bob", "builder")}, status: 200, subject: "user-2", worked: 1},
		{name: "a lower-case scheme is accepted", authz: []string{"basic " + base64.StdEncoding.EncodeToString([]byte("alice:wonderland"))}, status: 200, subject: "alice", roles: "admin", worked: 1},
		{name: "several spaces after the scheme are accepted", authz: []string{"Basic   " + base64.StdEncoding.EncodeToString([]byte("alice:wonderland"))}, status: 200, subject: "alice", roles: "admin", worked: 1},
		{name: "a wrong password is refused", authz: []string{basicValue("alice", "Wonderland")}, status: 401, reason: auth.ErrInvalidCredentials, worked: 1},
		{name: "an unknown user is refused after the same work", authz: []string{basicValue("mallory", "wonderland")}, status: 401, reason: auth.ErrInvalidCredentials, worked: 1},
		{name: "user names are case-sensitive", authz: []string{basicValue("Alice", "wonderland")}, status: 401, reason: auth.ErrInvalidCredentials, worked: 1},
		{name: "an empty password is refused before the lookup", authz: []string{basicValue("alice", "")}, status: 401, reason: auth.ErrInvalidCredentials},
		{name: "a password with a colon reaches verification", authz: []string{basicValue("alice", "wonder:land")}, status: 401, reason: auth.ErrInvalidCredentials, worked: 1},
		{name: "no Authorization header asks for credentials", status: 401, reason: auth.ErrNoCredentials},
		{name: "the Bearer scheme is malformed here", authz: []string{"Bearer abc.def.ghi"}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "a scheme without credentials is malformed", authz: []string{"Basic"}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "a scheme with only spaces is malformed", authz: []string{"Basic    "}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "a tab is not a space after the scheme", authz: []string{"Basic\t" + base64.StdEncoding.EncodeToString([]byte("alice:wonderland"))}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "a scheme glued to its credentials is malformed", authz: []string{"Basic" + base64.StdEncoding.EncodeToString([]byte("alice:wonderland"))}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "bad base64 is malformed", authz: []string{"Basic !!!!"}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "unpadded base64 is malformed", authz: []string{"Basic " + base64.RawStdEncoding.EncodeToString([]byte("alice:wonderland1"))}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "URL-safe base64 is malformed", authz: []string{"Basic " + base64.URLEncoding.EncodeToString([]byte("alice:wonder>land?"))}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "credentials without a colon are malformed", authz: []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("alicewonderland"))}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "an empty user-id is malformed", authz: []string{basicValue("", "wonderland")}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "non-UTF-8 credentials are malformed", authz: []string{nonUTF8}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "a control character in the user-id is malformed", authz: []string{basicValue("alice\x00", "wonderland")}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "a control character in the password is malformed", authz: []string{basicValue("alice", "wonder\nland")}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "U+FFFD in the user-id is malformed", authz: []string{basicValue("ali\ufffdce", "wonderland")}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "U+FFFD in the password is malformed", authz: []string{basicValue("alice", "wonder\ufffdland")}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "a C1 control character is malformed", authz: []string{basicValue("alice\u0085", "wonderland")}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "several Authorization headers are malformed", authz: []string{basicValue("alice", "wonderland"), basicValue("alice", "wonderland")}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "a huge header is malformed without decoding", authz: []string{"Basic " + strings.Repeat("QUFB", 1<<18)}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "a stored hash beyond the limits is refused and costs the dummy verification", authz: []string{basicValue("dave", "wonderland")}, status: 401, reason: password.ErrHashLimits, worked: 1},
		{name: "a password too long for bcrypt is refused with the same work", authz: []string{basicValue("bob", strings.Repeat("b", 73))}, status: 401, reason: password.ErrPasswordTooLong, worked: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newBasic(t, nil)
			// dave's hash passes the store's check (the default limits)
			// but not the test Hasher's.
			if err := s.users.Add("dave", auth.User{Hash: "$argon2id$v=19$m=131072,t=2,p=16$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"}); err != nil {
				t.Fatal(err)
			}
			w, reason := do(s.basic.Handler(whoami), tt.authz...)
			if w.Code != tt.status {
				t.Fatalf("status = %d; want %d (reason %v)", w.Code, tt.status, reason)
			}
			if got := s.hasher.worked.Load(); got != tt.worked {
				t.Errorf("hash verifications = %d; want %d", got, tt.worked)
			}
			if tt.status == 200 {
				if got := w.Header().Get("X-Subject"); got != tt.subject {
					t.Errorf("subject = %q; want %q", got, tt.subject)
				}
				if got := w.Header().Get("X-Method"); got != string(identity.MethodBasic) {
					t.Errorf("method = %q; want basic", got)
				}
				if got := w.Header().Get("X-Roles"); got != tt.roles {
					t.Errorf("roles = %q; want %q", got, tt.roles)
				}
				return
			}
			if !errors.Is(reason, tt.reason) {
				t.Errorf("reason = %v; want %v", reason, tt.reason)
			}
			if got := w.Header().Values("WWW-Authenticate"); len(got) != 1 || got[0] != wantChallenge {
				t.Errorf("WWW-Authenticate = %q; want %q", got, wantChallenge)
			}
			if ct := w.Header().Get("Content-Type"); ct != problem.ContentType {
				t.Errorf("Content-Type = %q", ct)
			}
			body := w.Body.String()
			for _, secret := range []string{"alice", "wonderland", "mallory", "bob"} {
				if strings.Contains(body, secret) {
					t.Errorf("body reflects %q: %s", secret, body)
				}
			}
		})
	}
}

func mustBasic(t testing.TB, o auth.BasicOptions) *auth.Basic {
	t.Helper()
	b, err := auth.NewBasic(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
