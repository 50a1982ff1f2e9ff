package redisstore_test

import (
	"context"
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
// (CROSSSLOT). (Redis 7.0 does not refuse a script that touches a key it
// did not declare while this node serves that key's slot.)
func newClusterClient(t *testing.T) *redis.ClusterClient {
	t.Helper()
	addr := testenv.RedisWith(t, func(dir string, _ int) []string {
		return []string{"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(testenv.FreePort(t)),
			"--cluster-config-file", dir + "/nodes.conf"}
	})
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
