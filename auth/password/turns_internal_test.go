package password

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// turnsHasher returns a fast Hasher with max turns, and its argon2id
// and a bcrypt hash of "right".
func turnsHasher(t *testing.T, max int) (h *Hasher, argon2id, bcryptHash string) {
	t.Helper()
	h, err := New(Options{MaxConcurrent: max, DangerouslyAllowWeakParams: true, Params: Params{Memory: 64, Time: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if argon2id, err = h.Hash("right"); err != nil {
		t.Fatal(err)
	}
	b, err := bcrypt.GenerateFromPassword([]byte("right"), bcryptMinCost)
	if err != nil {
		t.Fatal(err)
	}
	return h, argon2id, string(b)
}

// TestMaxConcurrent holds every turn of a Hasher and checks that Hash and
// Verify, argon2id and bcrypt, wait for one and finish once it is free:
// the bound on the memory of concurrent computations.
func TestMaxConcurrent(t *testing.T) {
	t.Parallel()
	h, stored, bcryptHash := turnsHasher(t, 2)
	if cap(h.turns) != 2 {
		t.Fatalf("turns = %d, want 2", cap(h.turns))
	}
	calls := map[string]func() error{
		"Hash": func() error { _, err := h.Hash("another"); return err },
		"Verify argon2id": func() error {
			ok, _, err := h.Verify("right", stored)
			if err == nil && !ok {
				err = errors.New("the right password did not verify")
			}
			return err
		},
		"Verify bcrypt": func() error {
			ok, _, err := h.Verify("right", bcryptHash)
			if err == nil && !ok {
				err = errors.New("the right password did not verify")
			}
			return err
		},
	}
	for name, call := range calls {
		// Take both turns, as two computations in progress would.
		h.turns <- struct{}{}
		h.turns <- struct{}{}
		done := make(chan error, 1)
		go func() { done <- call() }()
		select {
		case err := <-done:
			t.Fatalf("%s ran while every turn was taken (err %v)", name, err)
		case <-time.After(50 * time.Millisecond):
		}
		<-h.turns // one computation ends
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s did not run once a turn was free", name)
		}
		<-h.turns
		if len(h.turns) != 0 {
			t.Fatalf("%s left %d turns taken", name, len(h.turns))
		}
	}
}

// TestMaxConcurrentDefault checks the default bound and the refusal of a
// negative one.
func TestMaxConcurrentDefault(t *testing.T) {
	t.Parallel()
	if got, want := cap(MustNew(Options{}).turns), max(runtime.GOMAXPROCS(0), 2); got != want {
		t.Errorf("default turns = %d, want %d", got, want)
	}
	if _, err := New(Options{MaxConcurrent: -1}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("MaxConcurrent -1: err = %v, want ErrInvalidOptions", err)
	}
	// A bad hash and a long password are refused before waiting for a turn.
	h := MustNew(Options{MaxConcurrent: 1})
	h.turns <- struct{}{}
	defer func() { <-h.turns }()
	if _, _, err := h.Verify("x", "$argon2id$nonsense"); err == nil {
		t.Error("a malformed hash verified")
	}
	if _, err := h.Hash(string(make([]byte, DefaultMaxPasswordLength+1))); !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("long password: err = %v", err)
	}
}

// TestVerifyContextGivesUpWaiting holds every turn and checks that
// VerifyContext, argon2id and bcrypt, returns the context's error once the
// context ends instead of waiting for a turn and hashing for a client that
// has gone away, and that an ended context takes no free turn.
func TestVerifyContextGivesUpWaiting(t *testing.T) {
	t.Parallel()
	h, stored, bcryptHash := turnsHasher(t, 1)
	for _, hash := range []string{stored, bcryptHash} {
		h.turns <- struct{}{} // a computation in progress
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		done := make(chan error, 1)
		go func() {
			_, _, err := h.VerifyContext(ctx, "right", hash)
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%.9s: err = %v, want context.DeadlineExceeded", hash, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%.9s: VerifyContext still waits for a turn after its context ended", hash)
		}
		cancel()
		<-h.turns
		// Ended before the call: nothing is hashed, though a turn is free.
		if ok, _, err := h.VerifyContext(ctx, "right", hash); ok || !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%.9s: ended context: ok = %v, err = %v", hash, ok, err)
		}
		if len(h.turns) != 0 {
			t.Fatalf("%.9s: %d turns left taken", hash, len(h.turns))
		}
		// A live context verifies as Verify does.
		if ok, _, err := h.VerifyContext(context.Background(), "right", hash); !ok || err != nil {
			t.Errorf("%.9s: live context: ok = %v, err = %v", hash, ok, err)
		}
	}
}

// TestHashContextGivesUpWaiting is TestVerifyContextGivesUpWaiting for
// HashContext.
func TestHashContextGivesUpWaiting(t *testing.T) {
	t.Parallel()
	h, _, _ := turnsHasher(t, 1)
	h.turns <- struct{}{} // a computation in progress
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.HashContext(ctx, "new password")
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("HashContext ran while the turn was taken (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("HashContext still waits for a turn after its context ended")
	}
	<-h.turns
	if s, err := h.HashContext(ctx, "new password"); s != "" || !errors.Is(err, context.Canceled) {
		t.Errorf("ended context: %q, %v; want nothing hashed", s, err)
	}
	if len(h.turns) != 0 {
		t.Fatalf("%d turns left taken", len(h.turns))
	}
	s, err := h.HashContext(context.Background(), "new password")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Verify("new password", s); !ok || err != nil {
		t.Errorf("the hash of a live context does not verify: %v, %v", ok, err)
	}
}
