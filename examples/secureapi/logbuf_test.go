package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func newBufferedLogger(out *syncBuffer, interval time.Duration) (*slog.Logger, *logBuffer) {
	buf := newLogBuffer(out, interval)
	return slog.New(flushOnWarn{slog.NewJSONHandler(buf, nil), buf}), buf
}

func TestLogBufferHoldsRoutineRecordsUntilTheInterval(t *testing.T) {
	out := &syncBuffer{}
	logger, buf := newBufferedLogger(out, time.Hour)
	defer buf.Close()
	for i := range 10 {
		logger.Info("http request", "n", i)
	}
	if out.Writes() != 0 {
		t.Fatalf("%d writes before any flush, want 0", out.Writes())
	}
	if err := buf.Flush(); err != nil {
		t.Fatal(err)
	}
	if out.Writes() != 1 {
		t.Errorf("one flush made %d writes, want 1", out.Writes())
	}
	if n := strings.Count(out.String(), "\n"); n != 10 {
		t.Errorf("%d records written, want 10", n)
	}
}

func TestLogBufferWritesWarningsAndErrorsAtOnce(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelWarn, slog.LevelError} {
		t.Run(level.String(), func(t *testing.T) {
			out := &syncBuffer{}
			logger, buf := newBufferedLogger(out, time.Hour)
			defer buf.Close()
			logger.Info("before")
			logger.Log(t.Context(), level, "security event")
			got := out.String()
			// The routine record that came first is written with it, in order.
			if !strings.Contains(got, `"msg":"before"`) || !strings.Contains(got, `"msg":"security event"`) ||
				strings.Index(got, "before") > strings.Index(got, "security event") {
				t.Errorf("written at once: %q", got)
			}
		})
	}
}

func TestLogBufferWritesOnTheTicker(t *testing.T) {
	out := &syncBuffer{}
	logger, buf := newBufferedLogger(out, 10*time.Millisecond)
	defer buf.Close()
	logger.Info("routine")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "routine") {
		if time.Now().After(deadline) {
			t.Fatal("a routine record was not written within 5 s of a 10 ms interval")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLogBufferWritesWhenFull(t *testing.T) {
	out := &syncBuffer{}
	logger, buf := newBufferedLogger(out, time.Hour)
	defer buf.Close()
	big := strings.Repeat("x", 1000)
	for range logBufferSize / 1000 {
		logger.Info("routine", "v", big)
	}
	if out.Writes() == 0 {
		t.Fatalf("nothing written after %d bytes", logBufferSize)
	}
}

func TestLogBufferCloseWritesTheRestInOrder(t *testing.T) {
	out := &syncBuffer{}
	logger, buf := newBufferedLogger(out, time.Millisecond)
	var wg sync.WaitGroup
	const goroutines, each = 8, 500
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				logger.Info("r", "g", g, "i", i)
			}
		})
	}
	wg.Wait()
	if err := buf.Close(); err != nil {
		t.Fatal(err)
	}
	if err := buf.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	last := make([]int, goroutines)
	for i := range last {
		last[i] = -1
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != goroutines*each {
		t.Fatalf("%d records written, want %d", len(lines), goroutines*each)
	}
	for _, l := range lines {
		var rec struct{ G, I int }
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("a record was torn: %q: %v", l, err)
		}
		if rec.I != last[rec.G]+1 {
			t.Fatalf("goroutine %d: record %d after %d", rec.G, rec.I, last[rec.G])
		}
		last[rec.G] = rec.I
	}
}

func TestLogFlushFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want time.Duration
		ok   bool
	}{
		{nil, 100 * time.Millisecond, true},
		{[]string{"-log-flush", "0"}, 0, true},
		{[]string{"-log-flush", "1s"}, time.Second, true},
		{[]string{"-log-flush", "-1s"}, 0, false},
		{[]string{"-log-flush", "2m"}, 0, false},
	} {
		t.Run(fmt.Sprint(tc.args), func(t *testing.T) {
			var msg bytes.Buffer
			o, err := parseFlags(tc.args, &msg)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if !tc.ok {
				if !strings.Contains(msg.String(), "-log-flush") {
					t.Errorf("the error is not printed: %q", msg.String())
				}
				return
			}
			if o.logFlush != tc.want {
				t.Errorf("logFlush = %v, want %v", o.logFlush, tc.want)
			}
		})
	}
}
