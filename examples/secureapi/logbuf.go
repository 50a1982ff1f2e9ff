package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logBufferSize is how much routine logging may wait in memory before it
// is written, whatever the interval.
const logBufferSize = 32 << 10

// logBuffer batches the JSON log on its way to stderr. Without it a busy
// server makes one write system call per access record, which is most of
// what its access log costs. Records wait in memory until the interval
// has passed, logBufferSize bytes have gathered, or Flush or Close is
// called; [flushOnWarn] calls Flush after every warning and error, so
// security events and failures are never held back. What a crash loses
// (not a panic in a handler, which errorsafe recovers, nor a shutdown,
// which closes the buffer) is at most one interval of routine access
// records. It is safe for concurrent use.
type logBuffer struct {
	out io.Writer

	mu  sync.Mutex // guards buf
	buf []byte

	writeMu sync.Mutex // serializes writes to out, keeping records in order
	spare   []byte     // the other buffer, guarded by writeMu

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// newLogBuffer returns a buffer in front of out that writes what it holds
// every interval. The caller must Close it.
func newLogBuffer(out io.Writer, interval time.Duration) *logBuffer {
	b := &logBuffer{
		out:   out,
		buf:   make([]byte, 0, logBufferSize),
		spare: make([]byte, 0, logBufferSize),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go b.run(interval)
	return b
}

func (b *logBuffer) run(interval time.Duration) {
	defer close(b.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = b.Flush()
		case <-b.stop:
			return
		}
	}
}

// Write keeps a copy of p (one record: slog handlers write each record
// with one call) and writes everything held once logBufferSize is reached.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.buf = append(b.buf, p...)
	full := len(b.buf) >= logBufferSize
	b.mu.Unlock()
	if full {
		return len(p), b.Flush()
	}
	return len(p), nil
}

// Flush writes everything held, in the order it was written.
func (b *logBuffer) Flush() error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.Lock()
	pending := b.buf
	b.buf = b.spare[:0]
	b.mu.Unlock()
	var err error
	if len(pending) > 0 {
		_, err = b.out.Write(pending)
	}
	// A buffer grown by a burst is not kept.
	if cap(pending) > 4*logBufferSize {
		pending = make([]byte, 0, logBufferSize)
	}
	b.spare = pending[:0]
	return err
}

// Close stops the periodic writes and writes what is left. Records logged
// after Close still reach out, at the next Flush or when the buffer fills.
// It may be called more than once, at the same time too.
func (b *logBuffer) Close() error {
	b.stopOnce.Do(func() { close(b.stop) })
	<-b.done
	return b.Flush()
}

// flushOnWarn is a [slog.Handler] that flushes a [logBuffer] after every
// record at [slog.LevelWarn] or above.
type flushOnWarn struct {
	slog.Handler
	buf *logBuffer
}

func (h flushOnWarn) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.buf.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h flushOnWarn) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushOnWarn{h.Handler.WithAttrs(attrs), h.buf}
}

func (h flushOnWarn) WithGroup(name string) slog.Handler {
	return flushOnWarn{h.Handler.WithGroup(name), h.buf}
}
