package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/internal/testenv"
)

// envRunMain makes the test binary run main with the arguments in
// envRunMainArgs, one per line: the program as a user starts it.
const (
	envRunMain     = "SECUREAPI_TEST_RUN_MAIN"
	envRunMainArgs = "SECUREAPI_TEST_RUN_MAIN_ARGS"
)

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		os.Args = append([]string{"secureapi"}, strings.Split(os.Getenv(envRunMainArgs), "\n")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestProcessLogsJSONOnStderr runs the program in a process of its own,
// as the README starts it, and checks what the package comment and issue
// promise of its output: every line on stderr is a JSON log record, with
// or without -log-flush, access records carry the request ID, nothing
// goes to stdout when the demo password is set, and SIGTERM stops it
// cleanly (exit status 0).
func TestProcessLogsJSONOnStderr(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	for _, flush := range []string{"0", "100ms"} {
		t.Run("-log-flush "+flush, func(t *testing.T) {
			addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(),
				envRunMain+"=1",
				envRunMainArgs+"=-addr\n"+addr+"\n-log-flush\n"+flush,
				envDemoPassword+"=correct horse battery staple",
			)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			defer func() {
				if cmd.ProcessState == nil {
					_ = cmd.Process.Kill()
					<-done
				}
			}()

			// Wait for it to serve, then make a request that succeeds and
			// one that is refused.
			deadline := time.Now().Add(30 * time.Second)
			for {
				resp, err := http.Get("http://" + addr + "/healthz")
				if err == nil {
					resp.Body.Close()
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not serving after 30 s: %v; stderr:\n%s", err, stderr.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			req, _ := http.NewRequest("GET", "http://"+addr+"/users/me/", nil)
			req.Header.Set("Authorization", "Bearer not-a-token")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("a bad token: %d, want 401", resp.StatusCode)
			}

			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("exit after SIGTERM: %v, want status 0", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("still running 30 s after SIGTERM")
			}

			if stdout.Len() != 0 {
				t.Errorf("stdout: %q, want nothing", stdout.String())
			}
			lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			var access int
			for _, line := range lines {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Errorf("a stderr line that is not JSON: %q", line)
					continue
				}
				for _, k := range []string{"time", "level", "msg"} {
					if _, ok := rec[k]; !ok {
						t.Errorf("record without %q: %s", k, line)
					}
				}
				if rec["status"] != nil {
					access++
					if id, _ := rec["request_id"].(string); id == "" {
						t.Errorf("access record without a request_id: %s", line)
					}
				}
			}
			if access < 2 {
				t.Errorf("%d access records, want one for each request; stderr:\n%s", access, stderr.String())
			}
		})
	}
}

// TestProcessLogsJSONOnStderrWhenRedisFails: with -redis, what the Redis
// client has to say (a connection pool that cannot dial) is a JSON
// record on stderr too. Found in review: go-redis wrote it with the
// standard library's log package, a line of plain text ("redis:
// 2026/12/02 18:23:22 pool.go:762: ...") for every failed dial, in the
// middle of the JSON log.
func TestProcessLogsJSONOnStderrWhenRedisFails(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	redisAddr := testenv.Redis(t)
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		envRunMain+"=1",
		envRunMainArgs+"=-addr\n"+addr+"\n-log-flush\n0",
		envRedisURL+"=redis://"+redisAddr+"/0",
		envSigningKey+"="+hex.EncodeToString(randomKey(t)),
		envCSRFKey+"="+hex.EncodeToString(randomKey(t)),
		envDemoPassword+"=correct horse battery staple",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not serving after 30 s: %v; stderr:\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Redis goes away; the requests that need it fail, and the client's
	// pool says why.
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	_ = rdb.Shutdown(t.Context()).Err() // the connection closes: no reply
	rdb.Close()
	var unavailable int
	for range 3 {
		resp, err := http.PostForm("http://"+addr+"/token", url.Values{"grant_type": {"password"}, "client_id": {"secureapi-cli"}, "username": {"bob"}, "password": {"correct horse battery staple"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			unavailable++
		}
	}
	if unavailable == 0 {
		t.Fatal("POST /token served without Redis")
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30 s after SIGTERM")
	}
	var fromRedis int
	for _, line := range strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("a stderr line that is not JSON: %q", line)
			continue
		}
		if strings.Contains(line, "connection pool") {
			fromRedis++
		}
	}
	if fromRedis == 0 {
		t.Errorf("no record of the Redis client's failed dials; stderr:\n%s", stderr.String())
	}
}

func randomKey(t *testing.T) []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}
