package headers_test

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/internal/testenv"
)

// TestBrowserEnforcesTheHTMLPreset loads a page served with the HTML preset
// in headless Chromium: the script carrying the request's nonce runs, the
// injected one without it does not, and the violation is reported.
func TestBrowserEnforcesTheHTMLPreset(t *testing.T) {
	chromium := testenv.LookPath(t, "chromium", "chromium", "chromium-browser", "google-chrome")
	page := template.Must(template.New("").Parse(`<!doctype html><html><body>
<p id="nonced">nonced script: blocked</p>
<p id="injected">injected script: blocked</p>
<script nonce="{{.}}">document.getElementById("nonced").textContent = "nonced script: ran";</script>
<script>document.getElementById("injected").textContent = "injected script: ran";</script>
</body></html>`))

	var mu sync.Mutex
	var reports []headers.Report
	rh, err := headers.NewReportHandler(headers.ReportOptions{OnReport: func(r *http.Request, rep headers.Report) {
		mu.Lock()
		reports = append(reports, rep)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	o := headers.HTML()
	o.CSP.ReportURI = "/csp-report"
	m := mustNew(t, o)
	mux := http.NewServeMux()
	mux.Handle("POST /csp-report", rh)
	mux.Handle("GET /{$}", m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce, _ := headers.Nonce(r.Context())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, nonce)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--no-first-run", "--user-data-dir="+testenv.UserDataDir(t), "--virtual-time-budget=3000",
		"--dump-dom", srv.URL+"/").Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	if !strings.Contains(dom, "nonced script: ran") {
		t.Errorf("the nonced script did not run:\n%s", dom)
	}
	if !strings.Contains(dom, "injected script: blocked") {
		t.Errorf("the script without the nonce ran:\n%s", dom)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(reports)
		mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) == 0 {
		t.Log("no violation report arrived before the browser exited")
		return
	}
	if d := reports[0].EffectiveDirective; !strings.HasPrefix(d, "script-src") {
		t.Errorf("report for directive %q, want script-src", d)
	}
}
