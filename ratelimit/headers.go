package ratelimit

import (
	"net/http"
	"strconv"
	"unsafe"
)

// fields holds the values of the RateLimit-Policy, RateLimit and
// Retry-After response fields and the bytes of the last two, in one
// allocation.
type fields struct {
	vals [3]string
	buf  [144]byte
}

// setFields sets RateLimit-Policy (every limit, precomputed) and RateLimit
// (the state of each limit evaluated for this request) as the IETF
// RateLimit header fields draft describes them:
//
//	RateLimit-Policy: "ip";q=5;w=60, "all";q=1000;w=1
//	RateLimit: "ip";r=4;t=12, "all";r=999;t=1
//
// r is the number of requests the key may still make now, t the seconds
// until it is back to its full burst. Limits whose key did not apply to
// the request are left out. When refused is set it also sets Retry-After,
// and the RateLimit fields only unless they are off; otherwise it sets
// the RateLimit fields. It costs one allocation when the values fit 144
// bytes.
func (m *Middleware) setFields(h http.Header, d *decision, refused bool) {
	f := new(fields)
	b := f.buf[:0]
	if refused {
		b = strconv.AppendInt(b, ceilSeconds(d.retry), 10)
		// The bytes are never written again: the string may share them.
		f.vals[2] = unsafe.String(&b[0], len(b))
		h["Retry-After"] = f.vals[2:3:3]
		if m.headers == HeadersOff {
			return
		}
	}
	start := len(b)
	for i := 0; i < d.n; i++ {
		if d.remaining[i] < 0 {
			continue
		}
		if len(b) > start {
			b = append(b, ", "...)
		}
		b = append(b, m.limits[i].quoted...)
		b = append(b, ";r="...)
		b = strconv.AppendInt(b, int64(d.remaining[i]), 10)
		b = append(b, ";t="...)
		b = strconv.AppendInt(b, d.reset[i], 10)
	}
	f.vals[0] = m.policy
	h["Ratelimit-Policy"] = f.vals[0:1:1]
	if len(b) > start {
		// As above: b[start:] is written once, then only read.
		f.vals[1] = unsafe.String(&b[start], len(b)-start)
		h["Ratelimit"] = f.vals[1:2:2]
	}
}
