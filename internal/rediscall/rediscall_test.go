package rediscall

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestRunReturnsTheCallsResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		want := errors.New("boom")
		v, err := Run(t.Context(), time.Second, func(ctx context.Context) (int, error) {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("the call's context has no deadline")
			}
			time.Sleep(999 * time.Millisecond)
			return 7, want
		})
		if v != 7 || err != want {
			t.Fatalf("Run = %v, %v", v, err)
		}
	})
}

func TestRunStopsWaitingAtTheTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		start := time.Now()
		v, err := Run(t.Context(), 100*time.Millisecond, func(context.Context) (int, error) {
			<-release // a client that ignores its context
			return 7, nil
		})
		if d := time.Since(start); d != 100*time.Millisecond {
			t.Errorf("Run returned after %v", d)
		}
		if v != 0 || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Run = %v, %v", v, err)
		}
		close(release) // the call ends later; synctest checks it does
	})
}

func TestRunStopsWaitingWhenTheCallerLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(10*time.Millisecond, cancel)
		start := time.Now()
		_, err := Run(ctx, time.Hour, func(context.Context) (int, error) {
			<-release
			return 7, nil
		})
		if d := time.Since(start); d != 10*time.Millisecond {
			t.Errorf("Run returned after %v", d)
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v", err)
		}
		close(release)
	})
}
