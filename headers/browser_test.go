package headers_test

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/internal/testenv"
)

// TestBrowserEnforcesTheHTMLPreset loads a page served with the HTML preset
// in headless Chromium: the script carrying the request's nonce runs and
// the injected one without it does not. Violation reports, framing and the
// other browser-enforced protections are proven by the browsertest module,
// which drives the browser over the DevTools protocol and can wait for them.
func TestBrowserEnforcesTheHTMLPreset(t *testing.T) {
	chromium := testenv.LookPath(t, "chromium", "chromium", "chromium-browser", "google-chrome")
	page := template.Must(template.New("").Parse(`<!doctype html><html><body>
<p id="nonced">nonced script: blocked</p>
<p id="injected">injected script: blocked</p>
<script nonce="{{.}}">document.getElementById("nonced").textContent = "nonced script: ran";</script>
<script>document.getElementById("injected").textContent = "injected script: ran";</script>
</body></html>`))

	m := mustNew(t, headers.HTML())
	mux := http.NewServeMux()
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
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-quic", "--no-first-run", "--user-data-dir="+testenv.UserDataDir(t), "--virtual-time-budget=3000",
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
}
