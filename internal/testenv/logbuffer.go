package testenv

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// LogBuffer is a log destination that handlers on other goroutines may
// write to while a test reads it. The zero value is ready to use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p. It is safe for concurrent use.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Records decodes what was written as JSON lines, one record a line, and
// fails t on a line that is not a JSON object.
func (b *LogBuffer) Records(t testing.TB) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for line := range strings.Lines(b.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// Refusal is an access record of a refused request: its status and the
// reason errorsafe logged.
type Refusal struct {
	Status int
	Reason string
}

// Refusals returns the access records (errorsafe's "http request") whose
// status is 400 or more, in the order they were written, and reports
// each one logged without a reason as an error of t.
func (b *LogBuffer) Refusals(t testing.TB) []Refusal {
	t.Helper()
	var out []Refusal
	for _, rec := range b.Records(t) {
		st, _ := rec["status"].(float64)
		if rec["msg"] != "http request" || st < 400 {
			continue
		}
		reason, _ := rec["reason"].(string)
		if reason == "" {
			t.Errorf("refusal logged without a reason: %v", rec)
		}
		out = append(out, Refusal{Status: int(st), Reason: reason})
	}
	return out
}
