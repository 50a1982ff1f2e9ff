package browsertest_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/httpguard/httpguard/https"
)

// requireEnv turns a missing Chromium into a failure instead of a skip, as
// CI sets it.
const requireEnv = "HTTPGUARD_REQUIRE_EXTERNAL"

// scenarioTimeout bounds one scenario: its browser context, its page
// actions and every wait for the server to see something. It is generous
// for a loaded two-core machine; a passing scenario takes a second or two.
const scenarioTimeout = 60 * time.Second

// lookChromium returns the path of Chromium. Without it the test is
// skipped, or fails when HTTPGUARD_REQUIRE_EXTERNAL=1.
func lookChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "chromium not found; apt-get install -y chromium"
	if os.Getenv(requireEnv) == "1" {
		t.Fatalf("%s (%s=1 forbids skipping)", msg, requireEnv)
	}
	t.Skip(msg)
	return ""
}

// suite is one headless Chromium shared by every scenario. Each scenario
// opens its own browser context (an incognito profile: its own cookies,
// cache and preflight cache) with [suite.tab].
type suite struct {
	browser context.Context
	cert    *https.DevCert
}

// certHosts are the names the development certificate covers: the
// loopback origins of the scenarios, and two *.localhost names (which
// Chromium resolves to loopback itself) for the __Host- prefix scenario.
var certHosts = []string{"localhost", "127.0.0.1", "app.localhost", "evil.app.localhost"}

// startBrowser launches Chromium with the flags of issue 12, --disable-quic
// and a fresh profile, and trusts the development certificate through
// --ignore-certificate-errors-spki-list: that flag (honoured only with
// --user-data-dir) accepts exactly this one public key and no other
// invalid certificate, so every TLS origin of the suite is a real secure
// context (Secure and __Host- cookies behave as on a CA-issued
// certificate).
func startBrowser(t *testing.T) *suite {
	t.Helper()
	bin := lookChromium(t)
	cert, err := https.NewDevCert(https.DevCertOptions{Hosts: certHosts})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.TLS.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pin := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)

	profile := filepath.Join(t.TempDir(), "profile")
	var output lockedBuffer
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(pin[:])),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(&output),
	)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	stop := func() {
		// Close gracefully so that Chromium has left the profile
		// directory before t.TempDir removes it.
		ctx, cancel := context.WithTimeout(browserCtx, 20*time.Second)
		_ = chromedp.Cancel(ctx)
		cancel()
		cancelBrowser()
		cancelAlloc()
	}
	began := time.Now()
	// The first Do allocates the browser and binds it to the context it is
	// given, so it gets browserCtx and the start-up timeout is kept here.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(browserCtx) }()
	select {
	case err := <-started:
		if err != nil {
			stop()
			t.Fatalf("start %s: %v\n%s", bin, err, output.String())
		}
	case <-time.After(scenarioTimeout):
		stop()
		<-started
		t.Fatalf("start %s: no answer within %v\n%s", bin, scenarioTimeout, output.String())
	}
	t.Logf("%s started in %v", bin, time.Since(began).Round(time.Millisecond))
	t.Cleanup(stop)
	return &suite{browser: browserCtx, cert: cert}
}

// tab opens a page in a new browser context, closed with the test. Its
// context carries the scenario deadline.
func (s *suite) tab(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(s.browser, scenarioTimeout)
	tabCtx, cancelTab := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(func() {
		cancelTab()
		cancel()
	})
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return tabCtx
}

// server is one httptest server, reachable as several origins: the same
// port under the names "127.0.0.1" and "localhost" (and, with TLS, the
// other names of certHosts).
type server struct {
	*httptest.Server
	scheme, port string
}

// serve starts h on a fresh loopback port, over TLS with the development
// certificate when useTLS is set.
func (s *suite) serve(t *testing.T, h http.Handler, useTLS bool) *server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	// Browsers open speculative connections and drop them; the server's
	// complaints about those are noise.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if useTLS {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{s.cert.TLS}}
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &server{Server: srv, scheme: u.Scheme, port: u.Port()}
}

// origin returns the server's origin under host, such as
// "https://localhost:43123".
func (srv *server) origin(host string) string {
	return srv.scheme + "://" + net.JoinHostPort(host, srv.port)
}

// hit is one request as the server saw it, recorded before any handler
// ran, so even a request that a middleware rejected is there.
type hit struct {
	Method, Host, Path, Query string
	Origin, FetchSite         string
	Cookies                   map[string]string
	Header                    http.Header
	Status                    int
}

// String shows what a test needs to read in a failure message.
func (h hit) String() string {
	return fmt.Sprintf("{%s %s%s Origin=%q Sec-Fetch-Site=%q cookies=%v status=%d}", h.Method, h.Host, h.Path, h.Origin, h.FetchSite, h.Cookies, h.Status)
}

// isPreflight reports whether h is a CORS preflight.
func (h hit) isPreflight() bool {
	return h.Method == http.MethodOptions && h.Origin != "" && h.Header.Get("Access-Control-Request-Method") != ""
}

// events records values and lets a test wait, without polling, until they
// satisfy a condition.
type events[T any] struct {
	mu      sync.Mutex
	items   []T
	changed chan struct{}
}

func newEvents[T any]() *events[T] { return &events[T]{changed: make(chan struct{})} }

func (l *events[T]) add(v T) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, v)
	close(l.changed)
	l.changed = make(chan struct{})
	return len(l.items) - 1
}

func (l *events[T]) update(i int, f func(*T)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(&l.items[i])
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *events[T]) all() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]T(nil), l.items...)
}

// count returns how many recorded values satisfy match.
func (l *events[T]) count(match func(T) bool) int {
	n := 0
	for _, v := range l.all() {
		if match(v) {
			n++
		}
	}
	return n
}

// wait blocks until the recorded values satisfy cond, or fails t when ctx
// ends first.
func (l *events[T]) wait(t *testing.T, ctx context.Context, what string, cond func([]T) bool) []T {
	t.Helper()
	for {
		l.mu.Lock()
		items := append([]T(nil), l.items...)
		changed := l.changed
		l.mu.Unlock()
		if cond(items) {
			return items
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s: %v; recorded %v", what, ctx.Err(), items)
		}
	}
}

// recorder wraps h so that every request is recorded in hits, with the
// status of its response.
func recorder(hits *events[hit], h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cookies := map[string]string{}
		for _, c := range r.Cookies() {
			cookies[c.Name] = c.Value
		}
		i := hits.add(hit{
			Method: r.Method, Host: r.Host, Path: r.URL.Path, Query: r.URL.RawQuery,
			Origin: r.Header.Get("Origin"), FetchSite: r.Header.Get("Sec-Fetch-Site"),
			Cookies: cookies, Header: r.Header.Clone(),
		})
		sw := &statusWriter{ResponseWriter: w, set: func(code int) { hits.update(i, func(h *hit) { h.Status = code }) }}
		h.ServeHTTP(sw, r)
		sw.WriteHeader(http.StatusOK) // no-op when the handler wrote a status
	})
}

// statusWriter reports the status before it is sent, so a test that saw
// the response in the browser also sees the status in the log.
type statusWriter struct {
	http.ResponseWriter
	set   func(int)
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		w.set(code)
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// html answers with a fixed HTML document.
func html(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, body)
	})
}

// js quotes v as a JavaScript literal.
func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// eval runs expression in the page (awaiting it if it is a promise) and
// decodes its value.
func eval[T any](t *testing.T, ctx context.Context, expression string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expression, err)
	}
	return v
}

// navigate loads u in the tab and waits for its load event.
func navigate(t *testing.T, ctx context.Context, u string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("navigate to %s: %v", u, err)
	}
}

// lockedBuffer collects Chromium's output for a failure message.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() < 64<<10 {
		b.buf.Write(p)
	}
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out strings.Builder
	sc := bufio.NewScanner(strings.NewReader(b.buf.String()))
	for sc.Scan() {
		out.WriteString("\tchromium: " + sc.Text() + "\n")
	}
	return out.String()
}
