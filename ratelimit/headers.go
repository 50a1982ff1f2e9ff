package ratelimit

import (
	"net/http"
	"strconv"
	"unsafe"
)

// fields holds the values of the RateLimit-Policy and RateLimit response
// fields and the bytes of the second, in one allocation.
type fields struct {
	vals [2]string
	buf  [160]byte
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
// the request are left out. It costs one allocation when the value fits
// 160 bytes.
func (m *Middleware) setFields(h http.Header, d *decision) {
	f := new(fields)
	b := f.buf[:0]
	first := true
	for i := 0; i < d.n; i++ {
		if d.remaining[i] < 0 {
			continue
		}
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = append(b, m.limits[i].quoted...)
		b = append(b, ";r="...)
		b = strconv.AppendInt(b, int64(d.remaining[i]), 10)
		b = append(b, ";t="...)
		b = strconv.AppendInt(b, d.reset[i], 10)
	}
	f.vals[0] = m.policy
	h["Ratelimit-Policy"] = f.vals[0:1:1]
	if len(b) > 0 {
		// The bytes are never written again: the string may share them.
		f.vals[1] = unsafe.String(&b[0], len(b))
		h["Ratelimit"] = f.vals[1:2:2]
	}
}
