package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/internal/testenv"
)

func TestPrintHash(t *testing.T) {
	var out bytes.Buffer
	if err := printHash(strings.NewReader("s3cret pass\r\n"), &out); err != nil {
		t.Fatal(err)
	}
	h := strings.TrimSpace(out.String())
	if ok, _, err := password.Verify("s3cret pass", h); !ok || err != nil {
		t.Errorf("printed hash %q does not verify the password without its newline: %v", h, err)
	}
	if err := printHash(strings.NewReader("\n"), &out); err == nil {
		t.Error("an empty password was hashed")
	}
}

func writeUsers(t *testing.T, v any) string {
	t.Helper()
	b, ok := v.(json.RawMessage) // written as is, even if not one JSON value
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServer(t *testing.T) {
	h, _ := password.Hash("wonderland")
	bc, _ := bcrypt.GenerateFromPassword([]byte("builder"), bcrypt.MinCost)
	path := writeUsers(t, []fileUser{
		{Name: "alice", Hash: h, Roles: []string{"admin"}},
		{Name: "bob", Hash: string(bc)},
	})
	users, err := loadUsers(path, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := new(testenv.LogBuffer)
	handler, err := newHandler(users, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	defer srv.Close()
	get := func(user, pw string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/secure-data/", nil)
		if user != "" {
			req.SetBasicAuth(user, pw)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get("", ""); r.StatusCode != 401 || r.Header.Get("WWW-Authenticate") != `Basic realm="secure-data", charset="UTF-8"` {
		t.Errorf("no credentials: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	if r := get("alice", "wonderland"); r.StatusCode != 200 {
		t.Errorf("alice: %d", r.StatusCode)
	}
	if r := get("bob", "builder"); r.StatusCode != 200 {
		t.Errorf("bob (bcrypt): %d", r.StatusCode)
	}
	if u, _, _ := users.LookupUser(t.Context(), "bob"); !strings.HasPrefix(u.Hash, "$argon2id$") {
		t.Error("bob's bcrypt hash was not upgraded")
	}
	for i := range 10 {
		if r := get("alice", "guess"); r.StatusCode != 401 {
			t.Fatalf("guess %d: %d", i, r.StatusCode)
		}
	}
	if r := get("alice", "wonderland"); r.StatusCode != 429 || r.Header.Get("Retry-After") == "" {
		t.Errorf("after ten failures: %d, Retry-After %q; want 429", r.StatusCode, r.Header.Get("Retry-After"))
	}

	// Every refusal, a wrong password and the lockout, is in the access
	// log with its reason, and no password is, in clear or encoded.
	refused := map[int]int{}
	for _, rf := range logs.Refusals(t) {
		refused[rf.Status]++
	}
	if refused[401] != 11 || refused[429] != 1 {
		t.Errorf("access records of refusals by status: %v, want 11 of 401 and 1 of 429", refused)
	}
	for _, secret := range []string{"guess", "wonderland", base64.StdEncoding.EncodeToString([]byte("alice:guess"))} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q: %s", secret, logs.String())
		}
	}
	// The route is that one path, not every path below it (bob: alice is
	// locked out by now).
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/secure-data/x", nil)
	req.SetBasicAuth("bob", "builder")
	r, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("/secure-data/x: %d, want 404", r.StatusCode)
	}
}

func TestLoadUsers(t *testing.T) {
	var notice bytes.Buffer
	users, err := loadUsers("", "", &notice)
	if err != nil || users.Len() != 1 || !strings.Contains(notice.String(), "DEMO USER: demo / ") {
		t.Errorf("random demo user: %v, %q", err, notice.String())
	}
	notice.Reset()
	if _, err := loadUsers("", "from-env", &notice); err != nil || notice.Len() != 0 {
		t.Errorf("demo password from the environment: %v, printed %q", err, notice.String())
	}
	h, _ := password.Hash("x1")
	for _, tt := range []struct {
		name string
		v    any
	}{
		{"a plaintext password instead of a hash", []fileUser{{Name: "eve", Hash: "hunter2"}}},
		{"a name listed twice", []fileUser{{Name: "a", Hash: h}, {Name: "a", Hash: h}}},
		{"an unknown field", []map[string]string{{"name": "a", "hash": h, "password": "x"}}},
		{"no users", []fileUser{}},
		{"an absurd bcrypt cost", []fileUser{{Name: "a", Hash: "$2b$31$" + strings.Repeat("a", 53)}}},
		// A reader of the file sees bob as a user; encoding/json alone
		// would read the last member, in any letter case, and make him
		// an admin.
		{"a member in another letter case", json.RawMessage(`[{"name":"bob","hash":"` + h + `","roles":["user"],"Roles":["admin"]}]`)},
		{"a member only in another letter case", json.RawMessage(`[{"name":"bob","hash":"` + h + `","Roles":["admin"]}]`)},
		{"a member given twice", json.RawMessage(`[{"name":"bob","hash":"` + h + `","roles":["user"],"roles":["admin"]}]`)},
		{"a second list after the first", json.RawMessage(`[{"name":"bob","hash":"` + h + `"}] [{"name":"eve","hash":"` + h + `"}]`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeUsers(t, tt.v)
			_, err := loadUsers(path, "", nil)
			if err == nil {
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("the error does not name the file: %v", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error reveals the secret: %v", err)
			}
		})
	}
}

// Whoever can write the users file can add an admin: a file every user of
// the machine may write is refused, one only its owner and group may
// write is loaded.
func TestUsersFileWritableByAll(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	h, _ := password.Hash("x1")
	path := writeUsers(t, []fileUser{{Name: "alice", Hash: h, Roles: []string{"admin"}}})
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := loadUsers(path, "", nil); err == nil || !strings.Contains(err.Error(), "writable by every user") {
		t.Errorf("a users file of mode 0666: %v, want it refused", err)
	}
	if err := os.Chmod(path, 0o664); err != nil {
		t.Fatal(err)
	}
	if _, err := loadUsers(path, "", nil); err != nil {
		t.Errorf("a users file of mode 0664: %v", err)
	}
}

// Basic sends the password with every request, and this server speaks
// plain HTTP: an address off loopback is refused, not served in clear.
func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080":    true,
		"127.0.0.2:8080":    true,
		"[::1]:8080":        true,
		"localhost:8080":    true,
		":8080":             false,
		"0.0.0.0:8080":      false,
		"[::]:8080":         false,
		"192.168.1.10:8080": false,
		"example.com:8080":  false,
		"127.0.0.1":         false, // no port
	} {
		if err := checkLoopback(addr); (err == nil) != ok {
			t.Errorf("checkLoopback(%q) = %v, want accepted %v", addr, err, ok)
		}
	}
}
