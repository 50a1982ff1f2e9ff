package errorsafe_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/errorsafe"
)

// exampleLogger writes text records without the time, so the output is
// stable.
func exampleLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, "duration", "stack", "request_id":
				return slog.Attr{}
			}
			return a
		},
	}))
}

// The recommended setup: one Handler outermost, error-returning handlers
// inside.
func Example() {
	es, err := errorsafe.New(errorsafe.Options{
		Logger:                  exampleLogger(),
		GenerateRequestID:       func() string { return "req-1" },
		IgnoreIncomingRequestID: true,
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /invoices/{id}", errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return errors.New("pq: connection refused to 10.0.0.7:5432")
	}))
	h := es.Handler(mux)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/invoices/7?access_token=secret", nil))
	fmt.Println(rec.Code, rec.Header().Get("X-Request-Id"))
	fmt.Print(rec.Body.String())
	// Output:
	// level=ERROR msg="handler error" status=500 error="pq: connection refused to 10.0.0.7:5432" method=GET path=/invoices/7 client_gone=false response_started=false
	// level=ERROR msg="http request" method=GET path=/invoices/7 query="access_token=[REDACTED]" status=500 bytes=89 client_ip=192.0.2.1 reason="pq: connection refused to 10.0.0.7:5432"
	// 500 req-1
	// {"type":"about:blank","title":"Internal Server Error","status":500,"request_id":"req-1"}
}

// ExampleNew maps a sentinel error to a status and a public message.
func ExampleNew() {
	errNotFound := errors.New("store: not found")
	es, err := errorsafe.New(errorsafe.Options{
		Logger:            slog.New(slog.DiscardHandler),
		GenerateRequestID: func() string { return "req-2" },
		Errors: []errorsafe.ErrorMapping{
			{Err: errNotFound, Status: http.StatusNotFound, Public: "No such invoice."},
		},
	})
	if err != nil {
		panic(err)
	}
	h := es.Handler(errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return fmt.Errorf("invoice 7: %w", errNotFound)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/invoices/7", nil))
	fmt.Println(rec.Code)
	fmt.Print(rec.Body.String())

	_, err = errorsafe.New(errorsafe.Options{MaxRequestIDLength: 4096})
	fmt.Println(err)
	// Output:
	// 404
	// {"type":"about:blank","title":"Not Found","status":404,"detail":"No such invoice.","request_id":"req-2"}
	// errorsafe: invalid option MaxRequestIDLength: must be 0 or between 8 and 200
}

// A panic becomes a generic 500; the value and stack go to the log only.
func ExampleMiddleware_Recover() {
	es := errorsafe.MustNew(errorsafe.Options{Logger: exampleLogger()})
	h := es.Recover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("token 0xDEADBEEF rejected by the HSM")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/pay", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Print(rec.Body.String())
	// Output:
	// level=ERROR msg="panic recovered" panic="token 0xDEADBEEF rejected by the HSM" method=GET path=/pay response_started=false
	// level=WARN msg="security event" event=panic_recovered source=errorsafe status=500 reason="errorsafe: handler panicked" method=GET path=/pay client_ip=192.0.2.1 subject=""
	// 500 application/problem+json
	// {"type":"about:blank","title":"Internal Server Error","status":500}
}

// A well-formed request ID from the gateway, a trusted proxy of
// Options.ClientIP, is kept; a hostile one is replaced, and so is one
// sent by anyone else, however well-formed.
func ExampleMiddleware_RequestID() {
	gateway, err := clientip.New(clientip.Options{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	if err != nil {
		panic(err)
	}
	es := errorsafe.MustNew(errorsafe.Options{
		ClientIP:          gateway,
		GenerateRequestID: func() string { return "new-1" },
	})
	h := es.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("handler sees", errorsafe.RequestIDFrom(r.Context()))
	}))
	for _, tc := range []struct{ from, id string }{
		{"10.0.0.1:443", "gw-7f3a"},                   // the gateway
		{"10.0.0.1:443", "x\nlevel=ERROR msg=forged"}, // the gateway, passing on a client's value
		{"192.0.2.1:1234", "gw-7f3a"},                 // a client reusing another request's ID
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = tc.from
		req.Header.Set("X-Request-ID", tc.id)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println("response has", rec.Header().Get("X-Request-ID"))
	}
	// Output:
	// handler sees gw-7f3a
	// response has gw-7f3a
	// handler sees new-1
	// response has new-1
	// handler sees new-1
	// response has new-1
}

// SafeErrors replaces the body of a 5xx and, when enabled, the plain-text
// 404 and 405 of ServeMux, keeping headers such as Allow.
func ExampleMiddleware_SafeErrors() {
	es := errorsafe.MustNew(errorsafe.Options{ReplaceMuxErrors: true})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /report", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "open /srv/reports/q3.csv: permission denied", http.StatusInternalServerError)
	})
	h := es.SafeErrors(mux)
	for _, req := range []*http.Request{
		httptest.NewRequest("GET", "/report", nil),
		httptest.NewRequest("DELETE", "/report", nil),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Printf("%d Allow=%q\n", rec.Code, rec.Header().Get("Allow"))
		fmt.Print(rec.Body.String())
	}
	// Output:
	// 500 Allow=""
	// {"type":"about:blank","title":"Internal Server Error","status":500}
	// 405 Allow="GET, HEAD"
	// {"type":"about:blank","title":"Method Not Allowed","status":405}
}

// OnEvent receives every security event, for metrics and alerts.
func ExampleOptions_onEvent() {
	es := errorsafe.MustNew(errorsafe.Options{
		Logger: slog.New(slog.DiscardHandler),
		OnEvent: func(ctx context.Context, ev errorsafe.Event) {
			fmt.Println(ev.Kind, ev.Source, ev.Status, ev.Reason)
		},
	})
	h := es.Handler(errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
		return &errorsafe.Error{Status: http.StatusUnauthorized, Err: errors.New("auth: token expired")}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	// Output:
	// authentication_failed auth 401 errorsafe: 401 Unauthorized: auth: token expired
}

// A recovered panic reaches OnEvent as a *PanicError with its value and
// stack, to send to an error tracker; the client gets a plain 500.
func ExampleOptions_onEventPanic() {
	es := errorsafe.MustNew(errorsafe.Options{
		Logger: slog.New(slog.DiscardHandler),
		OnEvent: func(ctx context.Context, ev errorsafe.Event) {
			var pe *errorsafe.PanicError
			if errors.As(ev.Reason, &pe) {
				// report(pe.Value, pe.Stack, ev.RequestID)
				fmt.Println(ev.Kind, pe.Value, len(pe.Stack) > 0)
			}
		},
	})
	h := es.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var items []string
		_ = items[len(r.URL.Path)] // a bug: index out of range
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code)
	// Output:
	// panic_recovered runtime error: index out of range [1] with length 0 true
	// 500
}

// Redaction as the access log applies it, for logging data yourself.
func ExampleMiddleware_RedactQuery() {
	var es errorsafe.Middleware // the zero value uses the built-in lists
	fmt.Println(es.RedactQuery("user=bob&password=hunter2&page=2"))
	fmt.Println(es.RedactURL("https://u:p@app.example/cb?code=xyz#access_token=abc"))
	fmt.Println(es.RedactHeader("Authorization", "Bearer abc"))
	// Output:
	// user=bob&password=[REDACTED]&page=2
	// https://[REDACTED]@app.example/cb?code=[REDACTED]#[REDACTED]
	// [REDACTED]
}

// Incorrect: an errorsafe middleware inside auth cannot see auth's
// rejections, nor recover panics in auth, nor give them a request ID.
// Install it outermost instead.
func ExampleMiddleware_Handler_incorrect() {
	es := errorsafe.MustNew(errorsafe.Options{Logger: slog.New(slog.DiscardHandler)})
	auth := func(next http.Handler) http.Handler { // stands for auth.NewJWT(...).Handler
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "missing bearer token", http.StatusUnauthorized)
		})
	}
	app := http.NotFoundHandler()

	wrong := auth(es.Handler(app))
	right := es.Handler(auth(app))
	for _, h := range []http.Handler{wrong, right} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		fmt.Printf("request ID present: %v\n", rec.Header().Get("X-Request-Id") != "")
	}
	// Output:
	// request ID present: false
	// request ID present: true
}

// LogHandler adds the request ID to the application's own records.
func ExampleLogHandler() {
	h := errorsafe.LogHandler(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	logger := slog.New(h)
	es := errorsafe.MustNew(errorsafe.Options{GenerateRequestID: func() string { return "req-3" }})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "charging card", "amount_cents", 4200)
	})
	es.RequestID(app).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/pay", nil))
	// Output:
	// level=INFO msg="charging card" amount_cents=4200 request_id=req-3
}

// An application's own rejection: the reason goes to the access log, the
// client gets a problem with the request ID added by the middleware.
func ExampleSetRejectReason() {
	errQuota := errors.New("billing: monthly quota of 1000 exports used")
	es := errorsafe.MustNew(errorsafe.Options{
		Logger:            exampleLogger(),
		GenerateRequestID: func() string { return "req-4" },
	})
	h := es.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		errorsafe.SetRejectReason(r, errQuota)
		body := `{"type":"about:blank","title":"Forbidden","status":403,"detail":"Export quota reached."}`
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, body)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/exports", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Length"))
	fmt.Println(rec.Body.String())
	// Output:
	// level=WARN msg="security event" event=access_denied source=billing status=403 reason="billing: monthly quota of 1000 exports used" method=POST path=/exports client_ip=192.0.2.1 subject=""
	// level=INFO msg="http request" method=POST path=/exports status=403 bytes=109 client_ip=192.0.2.1 reason="billing: monthly quota of 1000 exports used"
	// 403 109
	// {"type":"about:blank","title":"Forbidden","status":403,"detail":"Export quota reached.","request_id":"req-4"}
}
