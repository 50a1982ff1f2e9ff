package testenv_test

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/internal/testenv"
)

func TestRedisAnswersPing(t *testing.T) {
	addr := testenv.Redis(t)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "+PONG" {
		t.Fatalf("PING answered %q, %v", line, err)
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("redis not on loopback: %s", addr)
	}
}

func TestFreePortsAreDistinctAndFree(t *testing.T) {
	ports := testenv.FreePorts(t, 64)
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] {
			t.Fatalf("port %d returned twice in %v", p, ports)
		}
		seen[p] = true
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		l.Close()
	}
}
