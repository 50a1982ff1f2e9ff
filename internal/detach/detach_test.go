package detach_test

import (
	"context"
	"testing"
	"time"

	"github.com/httpguard/httpguard/internal/detach"
)

type key struct{}

// The context of a store call that ends a session or revokes a token
// outlives its caller's cancellation, keeps its values (a store's tracing
// or tenant, say), and ends after Timeout or when cancelled.
func TestContext(t *testing.T) {
	parent, cancelParent := context.WithCancel(context.WithValue(context.Background(), key{}, "tenant-a"))
	before := time.Now()
	ctx, cancel := detach.Context(parent)
	defer cancel()
	cancelParent()
	if err := ctx.Err(); err != nil {
		t.Fatalf("cancelled with its parent: %v", err)
	}
	if v, _ := ctx.Value(key{}).(string); v != "tenant-a" {
		t.Errorf("value %q, want the parent's", v)
	}
	deadline, ok := ctx.Deadline()
	if !ok || deadline.Before(before.Add(detach.Timeout)) || deadline.After(time.Now().Add(detach.Timeout)) {
		t.Errorf("deadline %v (%v), want Timeout from now", deadline, ok)
	}
	cancel()
	if ctx.Err() != context.Canceled {
		t.Errorf("after cancel: %v", ctx.Err())
	}
}
