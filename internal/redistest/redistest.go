// Package redistest starts the Redis deployments that tests need beyond
// the single server of testenv.Redis, with go-redis clients for them.
// Like testenv.Redis, it skips the test when redis-server is missing,
// unless testenv.RequireEnv is set.
package redistest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/internal/testenv"
)

// Cluster starts a private one-node Redis Cluster serving every slot and
// returns a cluster client for it, closed when the test ends. One node is
// enough to catch what a cluster refuses: commands and scripts over keys
// of several slots (CROSSSLOT). (Redis 7.0 does not refuse a script that
// touches a key it did not declare while this node serves that key's
// slot.)
func Cluster(t testing.TB) *redis.ClusterClient {
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

// RefuseWrites makes the Redis behind rdb refuse every write, as it does
// when full under maxmemory-policy noeviction (how "OOM") or when it has
// become a replica after a failover (how "READONLY"), and returns a
// function that undoes it.
func RefuseWrites(t testing.TB, rdb *redis.Client, how string) (undo func()) {
	t.Helper()
	ctx := context.Background()
	switch how {
	case "OOM":
		if err := rdb.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
			t.Fatal(err)
		}
		if err := rdb.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
			t.Fatal(err)
		}
		return func() { _ = rdb.ConfigSet(ctx, "maxmemory", "0").Err() }
	case "READONLY":
		if err := rdb.ReplicaOf(ctx, "127.0.0.1", fmt.Sprint(testenv.FreePort(t))).Err(); err != nil {
			t.Fatal(err)
		}
		return func() { _ = rdb.ReplicaOf(ctx, "NO", "ONE").Err() }
	}
	t.Fatalf("RefuseWrites: %q", how)
	return nil
}
