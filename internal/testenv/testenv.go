// Package testenv finds and starts the external programs some tests need
// (a Redis server, a Chromium browser), each test on its own private
// instance bound to a free loopback port. It also holds the small helpers
// several packages' tests share, such as [LogBuffer].
//
// On a machine without the program a test is skipped with a message naming
// the missing binary and the package that provides it, unless the
// environment variable HTTPGUARD_REQUIRE_EXTERNAL is set to 1 (as CI sets
// it), in which case the test fails instead, so CI never silently skips.
package testenv

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RequireEnv is the variable that turns a missing program into a failure.
const RequireEnv = "HTTPGUARD_REQUIRE_EXTERNAL"

// LookPath returns the path of the first of names found on PATH. If none
// is found it skips t, or fails it when [RequireEnv] is "1".
func LookPath(t testing.TB, pkg string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s not found on PATH (install it: apt-get install -y %s)", strings.Join(names, " or "), pkg)
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s; %s=1 forbids skipping", msg, RequireEnv)
	}
	t.Skip(msg)
	return ""
}

// FreePort returns a free TCP port on 127.0.0.1.
func FreePort(t testing.TB) int {
	t.Helper()
	return FreePorts(t, 1)[0]
}

// FreePorts returns n distinct free TCP ports on 127.0.0.1. Each is held
// until all are chosen: two calls of FreePort can return the same port,
// free again once the first call has closed it.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("testenv: listen: %v", err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// Redis starts a private redis-server on a free loopback port, with no
// persistence, and returns its address ("127.0.0.1:port"). The server is
// stopped when the test ends.
func Redis(t testing.TB) string {
	t.Helper()
	return RedisWith(t, nil)
}

// RedisWith is [Redis] with more redis-server arguments, from extra, given
// the server's data directory and port (a retry on a taken port calls it
// again with the new one).
func RedisWith(t testing.TB, extra func(dir string, port int) []string) string {
	t.Helper()
	bin := LookPath(t, "redis-server", "redis-server")
	dir := t.TempDir()
	for range 3 {
		port := FreePort(t)
		args := []string{
			"--port", strconv.Itoa(port),
			"--bind", "127.0.0.1",
			"--save", "",
			"--appendonly", "no",
			"--dir", dir,
			"--protected-mode", "yes",
		}
		if extra != nil {
			args = append(args, extra(dir, port)...)
		}
		cmd := exec.Command(bin, args...)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatalf("testenv: start redis-server: %v", err)
		}
		ready := make(chan bool, 1)
		go func() {
			sc := bufio.NewScanner(stdout)
			ok := false
			for sc.Scan() {
				if !ok && strings.Contains(sc.Text(), "Ready to accept connections") {
					ok = true
					ready <- true
				}
			}
			if !ok {
				ready <- false
			}
		}()
		select {
		case ok := <-ready:
			if ok {
				t.Cleanup(func() {
					_ = cmd.Process.Kill()
					_ = cmd.Wait()
				})
				return "127.0.0.1:" + strconv.Itoa(port)
			}
			_ = cmd.Wait() // the port was taken; try another
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("testenv: redis-server did not start within 10s")
		}
	}
	t.Fatalf("testenv: redis-server failed to start three times")
	return ""
}

// UserDataDir returns a fresh, empty directory for a browser profile.
func UserDataDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "profile")
}
