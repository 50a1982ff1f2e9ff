package browsertest_test

import "testing"

// TestBrowser starts one headless Chromium and runs every scenario in it,
// each in its own browser context. Run one scenario with, for example,
// go test -run 'TestBrowser/CORS'.
func TestBrowser(t *testing.T) {
	s := startBrowser(t)
	t.Run("CORS", s.testCORS)
	t.Run("Preflight", s.testPreflight)
	t.Run("CSRF", s.testCSRF)
	t.Run("CSP", s.testCSP)
	t.Run("ScriptSrcElem", s.testScriptSrcElem)
	t.Run("Framing", s.testFraming)
	t.Run("GatewayFraming", s.testGatewayFraming)
	t.Run("GatewayCORS", s.testGatewayCORS)
	t.Run("SessionCookie", s.testSessionCookie)
	t.Run("RememberMe", s.testRememberMe)
	t.Run("HostPrefix", s.testHostPrefix)
	t.Run("Partitioned", s.testPartitioned)
	t.Run("Sanitize", s.testSanitize)
}
