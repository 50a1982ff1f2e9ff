package redisstore_test

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// newClusterClient starts a private one-node Redis Cluster serving every
// slot and returns a cluster client for it. One node is enough to catch
// what a cluster refuses: commands and scripts over keys of several slots
// (CROSSSLOT) and scripts touching keys they do not declare.
func newClusterClient(t *testing.T) *redis.ClusterClient {
	t.Helper()
	bin := testenv.LookPath(t, "redis-server", "redis-server")
	dir := t.TempDir()
	port, bus := testenv.FreePort(t), testenv.FreePort(t)
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(port), "--cluster-port", strconv.Itoa(bus),
		"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
		"--cluster-enabled", "yes", "--cluster-config-file", dir+"/nodes.conf")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	node := redis.NewClient(&redis.Options{Addr: addr})
	defer node.Close()
	ctx := context.Background()
	slots := make([]int, 16384)
	for i := range slots {
		slots[i] = i
	}
	deadline := time.Now().Add(10 * time.Second)
	for assigned := false; ; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the Redis Cluster node did not come up within 10s")
		}
		if !assigned {
			assigned = node.ClusterAddSlots(ctx, slots...).Err() == nil
			continue
		}
		if info, err := node.ClusterInfo(ctx).Result(); err == nil && strings.Contains(info, "cluster_state:ok") {
			break
		}
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
	t.Cleanup(func() { c.Close() })
	return c
}
