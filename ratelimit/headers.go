package ratelimit

import (
	"net/http"
	"unsafe"

	"github.com/httpguard/httpguard/internal/headervals"
	"github.com/httpguard/httpguard/internal/problem"
)

// The RateLimit and Retry-After values of one response are built in a
// buffer sized for the Middleware's limits. A RateLimit item is the quoted
// name, ";r=" and the remaining count, at most the burst, ";t=" and the
// seconds until the burst is back, at most the burst's worth of intervals,
// and ", " between items; Retry-After is at most that many seconds too.
// Values out of those ranges, which only a Store of another package could
// return, still work: append then reallocates.

// With plans, the RateLimit-Policy value of a request that some plan
// applies to is built there too: the longest item of each limit, and ", "
// between them.

// fieldsNeed returns the size of the buffer for limits.
func fieldsNeed(limits []limit) int {
	n, retry, policy, planned := 0, 0, 0, false
	for i := range limits {
		l := &limits[i]
		item, longest := 0, 0
		for j, q := range l.quotas {
			w := digits(window(q))
			item = max(item, digits(int64(q.Burst))+w)
			retry = max(retry, w)
			longest = max(longest, len(l.policies[j]))
		}
		n += len(l.quoted) + len(";r=;t=, ") + item
		policy += longest + len(", ")
		planned = planned || l.planOf != nil
	}
	if planned {
		n += policy
	}
	return n + retry
}

// digits returns the number of decimal digits of n >= 0.
func digits(n int64) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

// Slots of the string values of a response: an admitted one has the two
// RateLimit fields, a refused one Retry-After, them, and the four fields
// of the problem response.
const admittedSlots = 2

const (
	slotRetry = iota
	slotPolicy
	slotLimits
	slotProblem
	refusedSlots = slotProblem + problem.Slots
)

// setAdmitted sets RateLimit-Policy (every limit, precomputed unless a
// plan applied to the request) and
// RateLimit (the state of each limit evaluated for this request) as the
// IETF RateLimit header fields draft describes them:
//
//	RateLimit-Policy: "ip";q=5;w=60, "all";q=1000;w=1
//	RateLimit: "ip";r=4;t=12, "all";r=999;t=1
//
// r is the number of requests the key may still make now, t the seconds
// until it is back to its full burst. Limits whose key did not apply to
// the request are left out. It does not allocate, unless a Middleware
// before this one set the fields too (see setField).
func (m *Middleware) setAdmitted(h http.Header, d *decision) {
	vals, b := headervals.TakeBytes(admittedSlots, m.need)
	m.setRateLimit(h, d, vals, b, stacked(h))
}

// stacked reports whether a Middleware before this one has set the
// RateLimit fields of the response whose header is h: it sets the policy
// field whenever it sets any. An empty header is not looked up.
func stacked(h http.Header) bool {
	return len(h) > 0 && len(h["Ratelimit-Policy"]) > 0
}

// setRefused sets Retry-After (unless no wait would help) and, unless
// they are off, the RateLimit
// fields of a request a limit refused, without allocating (but see
// setField). It returns the
// values' spare slots, for the problem response.
func (m *Middleware) setRefused(h http.Header, d *decision) []string {
	st := stacked(h)
	vals, b := headervals.TakeBytes(refusedSlots, m.need)
	if d.retry >= 0 { // else the request is never admitted: no wait helps
		b = appendDecimal(b, ceilSeconds(d.retry))
		// The bytes are never written again: the string may share them.
		vals[slotRetry] = unsafe.String(&b[0], len(b))
		h["Retry-After"] = vals[slotRetry : slotRetry+1 : slotRetry+1]
	}
	if m.headers != HeadersOff {
		m.setRateLimit(h, d, vals[slotPolicy:slotLimits+1], b[len(b):], st)
	}
	return vals[slotProblem:]
}

// setRateLimit sets the RateLimit fields with vals[0] and vals[1] for
// their values, building the RateLimit value in b; stacked is as
// setField takes it.
func (m *Middleware) setRateLimit(h http.Header, d *decision, vals []string, b []byte, stacked bool) {
	vals[0] = m.policy
	if d.planned {
		start := len(b)
		b = m.appendPolicy(b, d)
		// As below: b[start:] is written once, then only read.
		vals[0] = unsafe.String(&b[start], len(b)-start)
	}
	setField(h, "Ratelimit-Policy", vals[0:1:1], stacked)
	start := len(b)
	for i := 0; i < d.n; i++ {
		if d.remaining[i] < 0 {
			continue
		}
		if len(b) > start {
			b = append(b, ", "...)
		}
		b = append(b, m.limits[i].item...)
		b = appendDecimal(b, int64(d.remaining[i]))
		b = append(b, ";t="...)
		b = appendDecimal(b, ceilSeconds(d.reset[i]))
	}
	if len(b) > start {
		// As above: b[start:] is written once, then only read.
		vals[1] = unsafe.String(&b[start], len(b)-start)
		setField(h, "Ratelimit", vals[1:2:2], stacked)
	}
}

// appendPolicy appends the RateLimit-Policy value of a request to b:
// the quota of every limit, its plan's where one applied to the request.
func (m *Middleware) appendPolicy(b []byte, d *decision) []byte {
	for i := range m.limits {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, m.limits[i].policies[d.plan[i]]...)
	}
	return b
}

// setField sets the field name to v, one value, or, stacked under a
// Middleware that has set the RateLimit fields for this response, adds v
// as another field line. The RateLimit fields are lists, and their lines
// one list, so a client sees the policies and budgets of every layer (by
// address, then by user), not only the innermost's; a layer's items are
// named by its limits. Only the stacked case allocates.
func setField(h http.Header, name string, v []string, stacked bool) {
	if stacked {
		if prev := h[name]; len(prev) > 0 {
			h[name] = append(prev[:len(prev):len(prev)], v[0])
			return
		}
	}
	h[name] = v
}

// appendDecimal appends n >= 0 in decimal, as strconv.AppendInt does,
// two digits at a time from a table and without bounds checks: it runs on
// every response, and strconv's general formatting was a fifth of this
// path's instructions with a remaining count of nine digits.
func appendDecimal(b []byte, n int64) []byte {
	u := uint64(n)
	if u < 10 {
		return append(b, byte('0'+u))
	}
	var buf [32]byte // indexes masked with 31: no bounds checks
	i := len(buf)
	for u >= 100 {
		q := u / 100
		r := uint8(u-q*100) * 2
		i -= 2
		buf[i&31], buf[(i+1)&31] = digitPairs[r], digitPairs[r+1]
		u = q
	}
	if u >= 10 {
		r := uint8(u) * 2
		i -= 2
		buf[i&31], buf[(i+1)&31] = digitPairs[r], digitPairs[r+1]
	} else {
		i--
		buf[i&31] = byte('0' + u)
	}
	return append(b, buf[i:]...)
}

// digitPairs holds "00" to "99", padded to 256 bytes so that a uint8
// index needs no bounds check.
var digitPairs = [256]byte(
	[]byte("00010203040506070809" +
		"10111213141516171819" +
		"20212223242526272829" +
		"30313233343536373839" +
		"40414243444546474849" +
		"50515253545556575859" +
		"60616263646566676869" +
		"70717273747576777879" +
		"80818283848586878889" +
		"90919293949596979899" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
)
