package errorsafe_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/internal/problem"
)

// fieldProblem is the 422 sanitize writes for invalid fields: a detail
// and an "errors" extension member.
var fieldProblem = func() []byte {
	b, err := problem.Encode(&problem.Problem{
		Status: http.StatusUnprocessableEntity,
		Detail: "The request has invalid fields.",
		Extensions: []problem.Member{{Name: "errors", Value: []map[string]string{
			{"field": "body", "rule": "required", "message": "is required"},
		}}},
	})
	if err != nil {
		panic(err)
	}
	return b
}()

// problemCase is one response an application writes below the
// middleware.
type problemCase struct {
	name     string
	status   int
	ctype    string   // Content-Type
	body     string   // the body the handler writes
	noLength bool     // write no Content-Length
	pieces   int      // write the body in this many writes (default 1)
	header   []string // extra header name, value pairs
	withID   bool     // the client gets the body with "request_id" added
}

var problemCases = []problemCase{
	{name: "a 422 with errors and detail gets the request ID", status: 422, ctype: problem.ContentType, body: string(fieldProblem), withID: true},
	{name: "a 422 written in several pieces gets the request ID", status: 422, ctype: problem.ContentType, body: string(fieldProblem), pieces: 5, withID: true},
	{name: "a 422 without Content-Length gets the request ID", status: 422, ctype: problem.ContentType, body: string(fieldProblem), noLength: true, pieces: 3, withID: true},
	{name: "a 403 problem with a type and an instance gets the request ID", status: 403, ctype: problem.ContentType,
		body: `{"type":"https://example.com/probs/out-of-credit","title":"You do not have enough credit.","status":403,"instance":"/account/12345/msgs/abc","balance":30,"accounts":["/account/12345","/account/67890"]}`, withID: true},
	{name: "a problem with media type parameters gets the request ID", status: 400, ctype: "Application/Problem+JSON ; charset=utf-8", body: `{"status":400}`, withID: true},
	{name: "an empty problem object gets the request ID without a stray comma", status: 400, ctype: problem.ContentType, body: "{ \n}\n", withID: true},
	{name: "a look-alike of the generic body gets the request ID", status: 404, ctype: problem.ContentType, body: `{"type":"about:blank","title":"Not found","status":404}` + "\n", withID: true},
	{name: "a problem with its own request_id is left alone", status: 400, ctype: problem.ContentType, body: `{"status":400,"request_id":"from-the-app"}`},
	{name: "a problem with an escaped request_id name is left alone", status: 400, ctype: problem.ContentType, body: `{"status":400,"request\u005fid":"from-the-app"}`},
	{name: "a nested request_id does not count", status: 400, ctype: problem.ContentType, body: `{"status":400,"errors":[{"request_id":"x"}],"x":{"request_id":1}}`, withID: true},
	{name: "a request_id string value does not count", status: 400, ctype: problem.ContentType, body: `{"detail":"request_id","status":400}`, withID: true},
	{name: "a non-problem JSON 4xx body is untouched", status: 400, ctype: "application/json", body: `{"error":"invalid_grant"}` + "\n"},
	{name: "a plain-text 4xx body is untouched", status: 403, ctype: "text/plain; charset=utf-8", body: "Forbidden\n"},
	{name: "a problem+jsonx media type is untouched", status: 400, ctype: "application/problem+jsonx", body: `{"status":400}`},
	{name: "a 2xx problem document is untouched", status: 200, ctype: problem.ContentType, body: `{"status":200}`},
	{name: "a problem over the bound passes through unchanged", status: 400, ctype: problem.ContentType,
		body: `{"status":400,"detail":"` + strings.Repeat("x", 16<<10) + `"}`},
	{name: "a problem over the bound without Content-Length passes through unchanged", status: 400, ctype: problem.ContentType, noLength: true, pieces: 4,
		body: `{"status":400,"detail":"` + strings.Repeat("x", 16<<10) + `"}`},
	{name: "a problem of exactly 16 KiB gets the request ID", status: 400, ctype: problem.ContentType, body: sizedProblem(16 << 10), withID: true},
	{name: "a problem of exactly 16 KiB without Content-Length gets the request ID", status: 400, ctype: problem.ContentType, noLength: true, pieces: 3,
		body: sizedProblem(16 << 10), withID: true},
	{name: "a problem of 16 KiB and one byte passes through unchanged", status: 400, ctype: problem.ContentType, body: sizedProblem(16<<10 + 1)},
	{name: "a problem of 16 KiB and one byte without Content-Length passes through unchanged", status: 400, ctype: problem.ContentType, noLength: true, pieces: 3,
		body: sizedProblem(16<<10 + 1)},
	{name: "a problem body that is not JSON is untouched", status: 400, ctype: problem.ContentType, body: `{"status":400,}`},
	{name: "a problem body that is a JSON array is untouched", status: 400, ctype: problem.ContentType, body: `[{"status":400}]`},
	{name: "a problem body with trailing data is untouched", status: 400, ctype: problem.ContentType, body: `{"status":400}{}`},
	{name: "a compressed problem is untouched", status: 400, ctype: problem.ContentType, body: `{"status":400}`, header: []string{"Content-Encoding", "identity-ish"}},
}

// sizedProblem returns a problem object of exactly n bytes.
func sizedProblem(n int) string {
	const head, tail = `{"status":400,"detail":"`, `"}`
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

// serveProblem writes c's response.
func serveProblem(c problemCase) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", c.ctype)
		for i := 0; i+1 < len(c.header); i += 2 {
			h.Set(c.header[i], c.header[i+1])
		}
		if !c.noLength {
			h.Set("Content-Length", strconv.Itoa(len(c.body)))
		}
		w.WriteHeader(c.status)
		n := max(c.pieces, 1)
		step := (len(c.body) + n - 1) / n
		for b := c.body; b != ""; {
			k := min(step, len(b))
			if _, err := io.WriteString(w, b[:k]); err != nil {
				return
			}
			b = b[k:]
		}
	}
}

// checkProblem checks the body the client got for c: the original with
// exactly the request_id member added, or the original byte for byte.
func checkProblem(t *testing.T, c problemCase, status int, h http.Header, body []byte) {
	t.Helper()
	id := h.Get("X-Request-Id")
	if status != c.status || id == "" {
		t.Fatalf("status %d, request ID %q", status, id)
	}
	if cl := h.Get("Content-Length"); cl != strconv.Itoa(len(body)) && (cl != "" || !c.noLength) {
		t.Errorf("Content-Length %q for %d bytes", cl, len(body))
	}
	if !c.withID {
		if string(body) != c.body {
			t.Errorf("body changed:\n got %.200q\nwant %.200q", body, c.body)
		}
		return
	}
	var got, want map[string]json.RawMessage
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body is not a JSON object: %v: %q", err, body)
	}
	if err := json.Unmarshal([]byte(c.body), &want); err != nil {
		t.Fatal(err)
	}
	if string(got["request_id"]) != strconv.Quote(id) {
		t.Errorf("request_id = %s, header %q", got["request_id"], id)
	}
	delete(got, "request_id")
	if !maps.EqualFunc(got, want, func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
		t.Errorf("members changed:\n got %s\nwant %s", body, c.body)
	}
	// The original text is kept: only the member is inserted.
	if end := strings.LastIndexByte(c.body, '}'); !bytes.HasPrefix(body, []byte(strings.TrimRight(c.body[:end], " \n"))) {
		t.Errorf("prefix changed:\n got %q\nwant %q", body, c.body)
	}
}

func TestEveryProblemCarriesTheRequestID(t *testing.T) {
	for _, c := range problemCases {
		t.Run(c.name, func(t *testing.T) {
			m, _ := newLogged(t, errorsafe.Options{})
			srv := httptest.NewServer(m.Handler(serveProblem(c)))
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("%v after %q", err, body)
			}
			checkProblem(t, c, resp.StatusCode, resp.Header, body)
		})
	}
}

func TestProblemsWrittenByHTTPGuardCarryTheRequestID(t *testing.T) {
	tests := []struct {
		name   string
		write  func(w http.ResponseWriter, r *http.Request)
		status int
		detail string
	}{
		{"a generic rejection keeps its required headers", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			problem.Reject(w, r, http.StatusTooManyRequests, errors.New("ratelimit: exceeded"))
		}, 429, ""},
		{"a generic 404", func(w http.ResponseWriter, r *http.Request) {
			problem.Write(w, http.StatusNotFound)
		}, 404, ""},
		{"a detailed problem with extension members", func(w http.ResponseWriter, r *http.Request) {
			problem.WriteProblem(w, &problem.Problem{Status: 422, Detail: "Field errors.", Extensions: []problem.Member{{Name: "fields", Value: []string{"email"}}}})
		}, 422, "Field errors."},
		{"a WriteError response", func(w http.ResponseWriter, r *http.Request) {
			errorsafe.WriteError(w, r, &errorsafe.Error{Status: 409, Public: "Already exists."})
		}, 409, "Already exists."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newLogged(t, errorsafe.Options{})
			srv := httptest.NewServer(m.Handler(http.HandlerFunc(tt.write)))
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			p := problemBody(t, body)
			id := resp.Header.Get("X-Request-Id")
			if resp.StatusCode != tt.status || p["status"] != float64(tt.status) || id == "" || p["request_id"] != id {
				t.Errorf("%d %s (header %q)", resp.StatusCode, body, id)
			}
			if tt.detail != "" && p["detail"] != tt.detail {
				t.Errorf("detail lost: %s", body)
			}
			if n := strings.Count(string(body), `"request_id"`); n != 1 {
				t.Errorf("%d request_id members: %s", n, body)
			}
			if resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length %s for %d bytes", resp.Header.Get("Content-Length"), len(body))
			}
			if tt.status == 429 && resp.Header.Get("Retry-After") != "7" {
				t.Error("Retry-After lost")
			}
		})
	}
}

// The request ID is added only by RequestID (or Handler): without an ID
// there is nothing to add, and the body is never held back.
func TestProblemsWithoutRequestIDAreUntouched(t *testing.T) {
	m, _ := newLogged(t, errorsafe.Options{})
	c := problemCases[0]
	for name, h := range map[string]http.Handler{
		"Recover":    m.Recover(serveProblem(c)),
		"SafeErrors": m.SafeErrors(serveProblem(c)),
		"AccessLog":  m.AccessLog(serveProblem(c)),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != 422 || rec.Body.String() != c.body {
			t.Errorf("%s: %d %q", name, rec.Code, rec.Body)
		}
	}
}

func TestHeadProblemAnnouncesTheLengthOfGet(t *testing.T) {
	tests := []struct {
		name      string
		write     http.HandlerFunc
		sameAsGet bool
	}{
		{"a rejection that writes its body has the Content-Length of its GET", func(w http.ResponseWriter, r *http.Request) {
			problem.Reject(w, r, http.StatusForbidden, errors.New("rbac: denied"))
		}, true},
		{"a detailed problem that writes its body has the Content-Length of its GET", serveProblem(problemCases[0]), true},
		{"a handler that writes no body for HEAD keeps its own header", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", problem.ContentType)
			w.Header().Set("Content-Length", strconv.Itoa(len(fieldProblem)))
			w.WriteHeader(422)
			if r.Method != http.MethodHead {
				w.Write(fieldProblem)
			}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The client connects from loopback, trusted as a proxy
			// so that its ID is kept.
			m, _ := newLogged(t, errorsafe.Options{ClientIP: trusting(t, "127.0.0.0/8", "::1/128")})
			srv := httptest.NewServer(m.Handler(tt.write))
			defer srv.Close()
			req := func(method string) (*http.Response, []byte) {
				rq, _ := http.NewRequest(method, srv.URL, nil)
				rq.Header.Set("X-Request-Id", "same-id-for-both")
				resp, err := srv.Client().Do(rq)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				return resp, body
			}
			get, getBody := req(http.MethodGet)
			head, headBody := req(http.MethodHead)
			if len(headBody) != 0 || head.StatusCode != get.StatusCode {
				t.Fatalf("HEAD %d with %q", head.StatusCode, headBody)
			}
			if get.ContentLength != int64(len(getBody)) || !strings.Contains(string(getBody), `"request_id":"same-id-for-both"`) {
				t.Fatalf("GET Content-Length %d for %q", get.ContentLength, getBody)
			}
			if same := head.ContentLength == get.ContentLength; same != tt.sameAsGet {
				t.Errorf("HEAD Content-Length %d, GET %d", head.ContentLength, get.ContentLength)
			}
			if !tt.sameAsGet && head.ContentLength != int64(len(fieldProblem)) {
				t.Errorf("HEAD Content-Length %d, handler said %d", head.ContentLength, len(fieldProblem))
			}
		})
	}
}

// A Flush in the middle of a problem sends what was held, unchanged: the
// header first, then the first part, then the rest as written.
func TestFlushMidProblemReleasesItUnchanged(t *testing.T) {
	half := len(fieldProblem) / 2
	for _, how := range []string{"Flush", "ResponseController"} {
		t.Run(how, func(t *testing.T) {
			m, _ := newLogged(t, errorsafe.Options{})
			flushed := make(chan struct{})
			proceed := make(chan struct{})
			srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", problem.ContentType)
				w.Header().Set("Content-Length", strconv.Itoa(len(fieldProblem)))
				w.WriteHeader(422)
				w.Write(fieldProblem[:half])
				if how == "Flush" {
					w.(http.Flusher).Flush()
				} else if err := http.NewResponseController(w).Flush(); err != nil {
					t.Error(err)
				}
				close(flushed)
				<-proceed
				w.Write(fieldProblem[half:])
			})))
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			<-flushed
			// The header and first half arrived before the rest was written.
			first := make([]byte, half)
			if _, err := io.ReadFull(resp.Body, first); err != nil || !bytes.Equal(first, fieldProblem[:half]) {
				t.Fatalf("%v: %q", err, first)
			}
			close(proceed)
			rest, err := io.ReadAll(resp.Body)
			if err != nil || !bytes.Equal(append(first, rest...), fieldProblem) {
				t.Fatalf("%v: %q", err, rest)
			}
			if resp.StatusCode != 422 || resp.ContentLength != int64(len(fieldProblem)) {
				t.Errorf("%d, Content-Length %d", resp.StatusCode, resp.ContentLength)
			}
		})
	}
}

// A body longer than its Content-Length is passed on as written, so the
// wrapped writer reports the mismatch as it would without the middleware;
// a shorter one is released unchanged when the handler returns.
func TestProblemOfTheWrongLengthIsReleasedUnchanged(t *testing.T) {
	for _, tt := range []struct {
		name   string
		length int
	}{
		{"a body longer than announced", len(fieldProblem) - 10},
		{"a body shorter than announced", len(fieldProblem) + 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newLogged(t, errorsafe.Options{})
			rec := httptest.NewRecorder()
			m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", problem.ContentType)
				w.Header().Set("Content-Length", strconv.Itoa(tt.length))
				w.WriteHeader(422)
				w.Write(fieldProblem[:20])
				w.Write(fieldProblem[20:])
			})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != 422 || !bytes.Equal(rec.Body.Bytes(), fieldProblem) || rec.Header().Get("Content-Length") != strconv.Itoa(tt.length) {
				t.Errorf("%d, Content-Length %s: %q", rec.Code, rec.Header().Get("Content-Length"), rec.Body)
			}
		})
	}
}

func TestPanicMidProblemStillAnswers500(t *testing.T) {
	m, _ := newLogged(t, errorsafe.Options{})
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", problem.ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(fieldProblem)))
		w.WriteHeader(422)
		w.Write(fieldProblem[:10]) // held back: nothing is on the wire
		panic("mid-body")
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	p := problemBody(t, rec.Body.Bytes())
	if rec.Code != 500 || p["status"] != 500.0 || p["request_id"] != rec.Header().Get("X-Request-Id") {
		t.Errorf("%d %v", rec.Code, p)
	}
}

// ReadFrom (io.Copy into the writer) is held like Write.
func TestProblemCopiedWithReadFromCarriesTheRequestID(t *testing.T) {
	m, _ := newLogged(t, errorsafe.Options{})
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", problem.ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(fieldProblem)))
		w.WriteHeader(422)
		w.(io.ReaderFrom).ReadFrom(strings.NewReader(string(fieldProblem)))
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	checkProblem(t, problemCases[0], rec.Code, rec.Header(), rec.Body.Bytes())
}

// FuzzProblemRequestID writes arbitrary problem bodies: the client gets
// either the body unchanged or, exactly when it is a JSON object without a
// top-level request_id, the same members plus request_id, with a correct
// Content-Length.
func FuzzProblemRequestID(f *testing.F) {
	for _, c := range problemCases {
		if len(c.body) < 1024 {
			f.Add(c.body, uint8(c.pieces))
		}
	}
	f.Add(`{"a":"\"}\\"}`, uint8(2))
	f.Add(`{"request_id":null}`, uint8(1))
	f.Add(` {"a":[1,{"b":"}"}]} `, uint8(3))
	f.Add("", uint8(0))
	m := errorsafe.MustNew(errorsafe.Options{Logger: discardLogger()})
	f.Fuzz(func(t *testing.T, body string, pieces uint8) {
		c := problemCase{status: 400, ctype: problem.ContentType, body: body, pieces: int(pieces%8) + 1}
		rec := httptest.NewRecorder()
		m.Handler(serveProblem(c)).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		var obj map[string]json.RawMessage
		c.withID = json.Unmarshal([]byte(body), &obj) == nil && obj != nil && obj["request_id"] == nil && len(body) <= 16<<10
		if _, dup := obj["request_id"]; dup {
			c.withID = false
		}
		checkProblem(t, c, rec.Code, rec.Header(), rec.Body.Bytes())
	})
}

// A problem held back to add the request ID to goes out with the header
// fields set when its status was written, as net/http sends them: a field
// the handler sets, changes or deletes after WriteHeader (before, between
// or after the writes of the body) has no effect, but for a trailer
// (http.TrailerPrefix), which net/http sends at the end (over HTTP/2,
// with a Content-Length too). The late changes went out with the held
// header, over HTTP/1.1 and HTTP/2.
func TestHeaderChangedAfterAHeldProblemsStatusHasNoEffect(t *testing.T) {
	m := errorsafe.MustNew(errorsafe.Options{Logger: discardLogger()})
	body := `{"status":404,"title":"Not Found"}`
	handler := func(withLength bool) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", problem.ContentType)
			if withLength {
				h.Set("Content-Length", strconv.Itoa(len(body)))
			}
			h.Set("X-Kept", "1")
			h.Set("X-Deleted-Late", "1")
			h.Set(http.TrailerPrefix+"Early", "1")
			w.WriteHeader(http.StatusNotFound)
			h.Set("X-Before-Body", "1")
			h.Set("X-Kept", "changed")
			h.Del("X-Deleted-Late")
			h.Add("X-Request-Id", "planted")
			io.WriteString(w, body[:10])
			h.Set("X-Between", "1")
			io.WriteString(w, body[10:])
			h.Set("X-After-Body", "1")
			h.Set(http.TrailerPrefix+"Late", "2")
		})
	}
	for _, h2 := range []bool{false, true} {
		for _, withLength := range []bool{false, true} {
			srv := httptest.NewUnstartedServer(m.Handler(handler(withLength)))
			srv.EnableHTTP2 = h2
			srv.StartTLS()
			res, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			srv.Close()
			for _, k := range []string{"X-Before-Body", "X-Between", "X-After-Body"} {
				if v, ok := res.Header[k]; ok {
					t.Errorf("HTTP/2 %v, Content-Length %v: %s: %q, set after WriteHeader; want none", h2, withLength, k, v)
				}
			}
			if got := res.Header["X-Kept"]; len(got) != 1 || got[0] != "1" {
				t.Errorf("HTTP/2 %v, Content-Length %v: X-Kept %q, want the value set before WriteHeader", h2, withLength, got)
			}
			if got := res.Header["X-Deleted-Late"]; len(got) != 1 {
				t.Errorf("HTTP/2 %v, Content-Length %v: X-Deleted-Late %q, deleted after WriteHeader; want it sent", h2, withLength, got)
			}
			p := problemBody(t, b)
			if got := res.Header["X-Request-Id"]; len(got) != 1 || p["request_id"] != got[0] {
				t.Errorf("HTTP/2 %v, Content-Length %v: X-Request-Id %q, body %v; want one ID, the body's", h2, withLength, got, p)
			}
			if h2 && (res.Trailer.Get("Early") != "1" || res.Trailer.Get("Late") != "2") {
				t.Errorf("HTTP/2 %v, Content-Length %v: trailers %v, want Early and Late", h2, withLength, res.Trailer)
			}
		}
	}
}

// TestUpgradeRequestsGetTheRequestIDInProblems: a problem refusing a
// request that asks for a protocol upgrade carries the request ID like
// any other, as the package documents for every problem response. Any
// client may send Connection: upgrade; it was enough to leave the
// request_id out of every rejection written further in.
func TestUpgradeRequestsGetTheRequestIDInProblems(t *testing.T) {
	m, _ := newLogged(t, errorsafe.Options{})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem.Reject(w, r, http.StatusUnauthorized, errors.New("auth: invalid token"))
	}))
	for name, req := range map[string]*http.Request{
		"Connection: upgrade": func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", "websocket")
			return r
		}(),
		"CONNECT": httptest.NewRequest("CONNECT", "/", nil),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		p := problemBody(t, rec.Body.Bytes())
		if id := rec.Header().Get("X-Request-Id"); rec.Code != http.StatusUnauthorized || id == "" || p["request_id"] != id {
			t.Errorf("%s: %d %s (header %q)", name, rec.Code, rec.Body, id)
		}
		if rec.Header().Get("Content-Length") != strconv.Itoa(rec.Body.Len()) {
			t.Errorf("%s: Content-Length %s for %d bytes", name, rec.Header().Get("Content-Length"), rec.Body.Len())
		}
	}
}
