package headers

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/httpguard/httpguard/internal/hostport"
)

// CSP is a Content Security Policy, built from typed directives. Every
// source list holds source expressions as [ParseSource] accepts them
// (keywords with their quotes: [Self], [None], …); [New] validates them all
// and renders the policy once. A nil or empty source list omits its
// directive. The zero CSP is an empty policy, which New rejects.
//
// Nonces are never written here: set ScriptNonce or StyleNonce and the
// middleware adds a fresh 'nonce-…' from crypto/rand to every response,
// available to handlers and templates through [Nonce].
type CSP struct {
	// DefaultSrc is the fallback for the fetch directives below that are
	// not set.
	DefaultSrc []string
	// ScriptSrc restricts scripts. When it is empty and ScriptNonce is
	// set, script-src is DefaultSrc (without 'none' and hash sources)
	// plus the nonce.
	ScriptSrc []string
	// ScriptSrcElem and ScriptSrcAttr restrict script elements and inline
	// event handlers separately (CSP Level 3).
	ScriptSrcElem, ScriptSrcAttr []string
	// StyleSrc restricts style sheets. When it is empty and StyleNonce is
	// set, style-src is DefaultSrc (without 'none' and hash sources)
	// plus the nonce.
	StyleSrc []string
	// StyleSrcElem and StyleSrcAttr restrict style elements and style
	// attributes separately (CSP Level 3).
	StyleSrcElem, StyleSrcAttr []string
	// ImgSrc, FontSrc, ConnectSrc, MediaSrc, ObjectSrc, FrameSrc,
	// ChildSrc, WorkerSrc and ManifestSrc are the other fetch directives.
	ImgSrc, FontSrc, ConnectSrc, MediaSrc, ObjectSrc, FrameSrc, ChildSrc, WorkerSrc, ManifestSrc []string
	// BaseURI restricts <base href>; [None] stops injected base elements
	// from redirecting relative script URLs. base-uri does not fall back
	// to default-src: when scripts or styles are allowed by a nonce or
	// hash and BaseURI is empty, base-uri 'self' is added, or an injected
	// <base href="https://attacker.example/"> would load every relative
	// nonced script or style sheet from the attacker's host. Set it to
	// [None] to forbid <base> altogether. For the same reason, in such a
	// policy a source matching any host (*, https:, *.github.io) is an
	// error unless DangerouslyAllowUnsafe is set.
	BaseURI []string
	// FormAction restricts form targets.
	FormAction []string
	// FrameAncestors restricts who may frame the page: [None] forbids
	// framing and supersedes X-Frame-Options in every browser that knows
	// CSP Level 2. It accepts only 'self', 'none', schemes and hosts, and
	// is ignored by browsers in a report-only policy.
	FrameAncestors []string

	// Sandbox adds the sandbox directive, which treats the response as a
	// unique origin; SandboxAllow lists allow-* tokens to relax it.
	Sandbox      bool
	SandboxAllow []string
	// UpgradeInsecureRequests makes browsers fetch http: subresources over
	// https. Leave it off when developing over plain http on localhost.
	UpgradeInsecureRequests bool
	// RequireTrustedTypes adds require-trusted-types-for 'script'.
	RequireTrustedTypes bool

	// ScriptNonce adds a per-response nonce to script-src; StyleNonce adds
	// the same nonce to style-src. Each goes to script-src-elem or
	// style-src-elem too when that list is set, since it, not the general
	// one, then governs the elements that carry the nonce.
	ScriptNonce, StyleNonce bool
	// StrictDynamic adds 'strict-dynamic' to script-src (and to
	// script-src-elem when it is set): scripts loaded by
	// a nonced script are trusted, host and 'self' sources are ignored by
	// CSP Level 3 browsers. It requires ScriptNonce or a hash.
	StrictDynamic bool

	// ReportURI is the report-uri endpoint: an absolute https URL or an
	// absolute path. Browsers post application/csp-report documents there;
	// [ReportHandler] receives them.
	ReportURI string
	// ReportTo is the URL of a Reporting API endpoint (https or an
	// absolute path). It adds report-to csp-endpoint to the policy and a
	// Reporting-Endpoints header naming it; browsers post
	// application/reports+json there.
	ReportTo string

	// ReportOnly sends the policy as Content-Security-Policy-Report-Only:
	// violations are reported, nothing is blocked.
	ReportOnly bool

	// DangerouslyAllowUnsafe accepts sources that switch off most of what
	// CSP protects: 'unsafe-inline' for scripts without a nonce or hash,
	// 'unsafe-eval', 'unsafe-hashes', data: or sources matching any host
	// or any site of a shared domain (*, https:, https://*:443, */, *.com,
	// *.co.uk, *.github.io) in script-src or object-src, or in base-uri
	// when scripts or styles are allowed by a nonce or hash, and http:
	// sources. Default false: New returns [ErrUnsafeSource].
	DangerouslyAllowUnsafe bool
}

// ReportingEndpointName is the endpoint name CSP.ReportTo is published
// under in the Reporting-Endpoints header.
const ReportingEndpointName = "csp-endpoint"

// maxPolicyLen bounds a rendered policy; servers and proxies commonly limit
// one header field to 8 KiB.
const maxPolicyLen = 8 << 10

// directive describes one source-list directive.
type directive struct {
	name   string
	get    func(*CSP) []string
	script bool // takes script keywords ('unsafe-*', 'strict-dynamic', hashes)
	style  bool // takes style keywords
	frame  bool // frame-ancestors grammar
}

var directives = [...]directive{
	{name: "default-src", get: func(c *CSP) []string { return c.DefaultSrc }, script: true, style: true},
	{name: "script-src", get: func(c *CSP) []string { return c.ScriptSrc }, script: true},
	{name: "script-src-elem", get: func(c *CSP) []string { return c.ScriptSrcElem }, script: true},
	{name: "script-src-attr", get: func(c *CSP) []string { return c.ScriptSrcAttr }, script: true},
	{name: "style-src", get: func(c *CSP) []string { return c.StyleSrc }, style: true},
	{name: "style-src-elem", get: func(c *CSP) []string { return c.StyleSrcElem }, style: true},
	{name: "style-src-attr", get: func(c *CSP) []string { return c.StyleSrcAttr }, style: true},
	{name: "img-src", get: func(c *CSP) []string { return c.ImgSrc }},
	{name: "font-src", get: func(c *CSP) []string { return c.FontSrc }},
	{name: "connect-src", get: func(c *CSP) []string { return c.ConnectSrc }},
	{name: "media-src", get: func(c *CSP) []string { return c.MediaSrc }},
	{name: "object-src", get: func(c *CSP) []string { return c.ObjectSrc }},
	{name: "frame-src", get: func(c *CSP) []string { return c.FrameSrc }},
	{name: "child-src", get: func(c *CSP) []string { return c.ChildSrc }},
	{name: "worker-src", get: func(c *CSP) []string { return c.WorkerSrc }},
	{name: "manifest-src", get: func(c *CSP) []string { return c.ManifestSrc }},
	{name: "base-uri", get: func(c *CSP) []string { return c.BaseURI }},
	{name: "form-action", get: func(c *CSP) []string { return c.FormAction }},
	{name: "frame-ancestors", get: func(c *CSP) []string { return c.FrameAncestors }, frame: true},
}

var fieldNames = map[string]string{
	"default-src": "DefaultSrc", "script-src": "ScriptSrc", "script-src-elem": "ScriptSrcElem",
	"script-src-attr": "ScriptSrcAttr", "style-src": "StyleSrc", "style-src-elem": "StyleSrcElem",
	"style-src-attr": "StyleSrcAttr", "img-src": "ImgSrc", "font-src": "FontSrc",
	"connect-src": "ConnectSrc", "media-src": "MediaSrc", "object-src": "ObjectSrc",
	"frame-src": "FrameSrc", "child-src": "ChildSrc", "worker-src": "WorkerSrc",
	"manifest-src": "ManifestSrc", "base-uri": "BaseURI", "form-action": "FormAction",
	"frame-ancestors": "FrameAncestors",
}

var sandboxTokens = map[string]bool{
	"allow-downloads": true, "allow-forms": true, "allow-modals": true,
	"allow-orientation-lock": true, "allow-pointer-lock": true, "allow-popups": true,
	"allow-popups-to-escape-sandbox": true, "allow-presentation": true,
	"allow-same-origin": true, "allow-scripts": true, "allow-top-navigation": true,
	"allow-top-navigation-by-user-activation":  true,
	"allow-top-navigation-to-custom-protocols": true,
	"allow-storage-access-by-user-activation":  true,
}

// broadSchemes are scheme sources that match every host.
var broadSchemes = map[string]bool{"*": true, "http:": true, "https:": true, "ftp:": true}

// isBroad reports whether s allows content from any host: "*", a network
// scheme such as https:, or a host source whose host is "*" or a wildcard
// over a domain under which anyone may have a site ("*.com", "*.co.uk",
// "*.github.io", "*.run.app": a public suffix, or a domain whose subdomains
// all are, by the Public Suffix List), whatever its scheme, port or path,
// so "https://*:443", "*:*" and "*/" count as much as "*".
func isBroad(s Source) bool {
	switch s.Kind {
	case SourceScheme:
		return broadSchemes[s.Value]
	case SourceHost:
	default:
		return false
	}
	host := s.Value
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	if i := strings.IndexAny(host, ":/"); i >= 0 {
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ".")
	return host == "*" || strings.HasPrefix(host, "*.") && hostport.SharedDomain(host[2:])
}

// policy is a compiled CSP: the header name and either a static value, or
// the pieces a nonce is inserted between.
type policy struct {
	header string
	static string   // when pieces is nil
	pieces []string // value = pieces[0] + nonce + pieces[1] + … ; len ≥ 2
	// fixedLen is the length of the value without nonces.
	fixedLen int
	// frameAncestors is the rendered frame-ancestors list, "" if absent.
	frameAncestors string
	// reportingEndpoints is the Reporting-Endpoints value, "" if none.
	reportingEndpoints string
}

// nonceMark stands for the nonce while rendering.
const nonceMark = "\x00"

// compileCSP validates c and renders it. field is the option path used in
// errors ("CSP" or "CSPReportOnly").
func compileCSP(c *CSP, field string) (*policy, []error) {
	var errs []error
	fail := func(sub, value string, err error) {
		errs = append(errs, &OptionError{Field: field + sub, Value: value, Err: err})
	}
	lists := make(map[string][]Source, len(directives))
	for _, d := range directives {
		raw := d.get(c)
		if len(raw) == 0 {
			continue
		}
		var srcs []Source
		for i, s := range raw {
			src, err := ParseSource(s)
			sub := "." + fieldNames[d.name] + "[" + strconv.Itoa(i) + "]"
			if err != nil {
				fail(sub, s, err)
				continue
			}
			if src.Kind == SourceKeyword && src.Value != Self && src.Value != None && !d.script && !d.style {
				fail(sub, s, because(ErrPolicy, "keyword not allowed in "+d.name))
				continue
			}
			if src.Kind == SourceHash && !d.script && !d.style {
				fail(sub, s, because(ErrPolicy, "hash not allowed in "+d.name))
				continue
			}
			if (src.Value == StrictDynamic || src.Value == WasmUnsafeEval) && !d.script {
				fail(sub, s, because(ErrPolicy, "keyword not allowed in "+d.name))
				continue
			}
			if !slices.Contains(srcs, src) {
				srcs = append(srcs, src)
			}
		}
		if len(srcs) > 1 && slices.ContainsFunc(srcs, func(s Source) bool { return s.Value == None }) {
			fail("."+fieldNames[d.name], "", because(ErrPolicy, "'none' combined with other sources"))
		}
		lists[d.name] = srcs
	}

	// The effective script and style lists, with nonces added.
	withNonce := func(name string, want bool) {
		if !want {
			return
		}
		l := lists[name]
		if len(l) == 0 {
			for _, s := range lists["default-src"] {
				if s.Value != None && s.Kind != SourceHash {
					l = append(l, s)
				}
			}
		}
		l = slices.DeleteFunc(slices.Clone(l), func(s Source) bool { return s.Value == None })
		l = append(l, Source{Kind: SourceKeyword, Value: "'nonce-" + nonceMark + "'"})
		lists[name] = l
	}
	// A set script-src-elem or style-src-elem governs <script> and
	// <style>/<link> elements instead of script-src or style-src, so the
	// nonce and 'strict-dynamic' go there too: without them every nonced
	// element was blocked (found in review). An unset one falls back to
	// the list that has them.
	scriptElem, styleElem := len(lists["script-src-elem"]) > 0, len(lists["style-src-elem"]) > 0
	withNonce("script-src", c.ScriptNonce)
	withNonce("script-src-elem", c.ScriptNonce && scriptElem)
	withNonce("style-src", c.StyleNonce)
	withNonce("style-src-elem", c.StyleNonce && styleElem)
	if c.StrictDynamic {
		for _, name := range [...]string{"script-src", "script-src-elem"} {
			if name == "script-src-elem" && !scriptElem {
				continue
			}
			l := lists[name]
			if len(l) == 0 {
				l = slices.Clone(lists["default-src"])
			}
			if !slices.ContainsFunc(l, func(s Source) bool { return s.Value == StrictDynamic }) {
				l = append(l, Source{Kind: SourceKeyword, Value: StrictDynamic})
			}
			lists[name] = l
		}
	}

	if len(lists["base-uri"]) == 0 && slices.ContainsFunc([]string{"default-src", "script-src", "script-src-elem", "style-src", "style-src-elem"},
		func(name string) bool { return slices.ContainsFunc(lists[name], isNonceOrHash) }) {
		// found in review: a nonce policy without base-uri trusted any
		// host an injected <base> named.
		lists["base-uri"] = []Source{{Kind: SourceKeyword, Value: Self}}
	}

	if !c.DangerouslyAllowUnsafe {
		errs = append(errs, checkUnsafe(lists, field)...)
	}
	for _, name := range [...]string{"default-src", "script-src", "script-src-elem"} {
		l := lists[name]
		if slices.ContainsFunc(l, func(s Source) bool { return s.Value == StrictDynamic }) &&
			!slices.ContainsFunc(l, isNonceOrHash) {
			fail("."+fieldNames[name], "", because(ErrPolicy, "'strict-dynamic' without a nonce or hash blocks every script"))
		}
	}

	var b strings.Builder
	add := func(name string, vals ...string) {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(name)
		for _, v := range vals {
			b.WriteByte(' ')
			b.WriteString(v)
		}
	}
	p := &policy{header: "Content-Security-Policy"}
	if c.ReportOnly {
		p.header = "Content-Security-Policy-Report-Only"
	}
	for _, d := range directives {
		l := lists[d.name]
		if len(l) == 0 {
			continue
		}
		vals := make([]string, len(l))
		for i, s := range l {
			vals[i] = s.Value
		}
		add(d.name, vals...)
		if d.frame {
			p.frameAncestors = strings.Join(vals, " ")
		}
	}
	if c.Sandbox {
		for i, t := range c.SandboxAllow {
			if !sandboxTokens[t] {
				fail(".SandboxAllow["+strconv.Itoa(i)+"]", t, because(ErrPolicy, "unknown sandbox token"))
			}
		}
		add("sandbox", c.SandboxAllow...)
	} else if len(c.SandboxAllow) > 0 {
		fail(".SandboxAllow", "", because(ErrPolicy, "SandboxAllow without Sandbox"))
	}
	if c.UpgradeInsecureRequests {
		add("upgrade-insecure-requests")
	}
	if c.RequireTrustedTypes {
		add("require-trusted-types-for", "'script'")
	}
	if c.ReportURI != "" {
		if err := checkReportURL(c.ReportURI); err != nil {
			fail(".ReportURI", c.ReportURI, err)
		} else {
			add("report-uri", c.ReportURI)
		}
	}
	if c.ReportTo != "" {
		if err := checkReportURL(c.ReportTo); err != nil {
			fail(".ReportTo", c.ReportTo, err)
		} else {
			add("report-to", ReportingEndpointName)
			p.reportingEndpoints = ReportingEndpointName + `="` + c.ReportTo + `"`
		}
	}
	if b.Len() == 0 && len(errs) == 0 {
		fail("", "", because(ErrPolicy, "no directives"))
	}
	value := b.String()
	// Each nonce mark becomes a nonce of nonceLen bytes on the wire
	// (found in review: the marks were counted as one byte each).
	if len(value)+strings.Count(value, nonceMark)*(nonceLen-len(nonceMark)) > maxPolicyLen {
		fail("", "", because(ErrPolicy, "rendered policy longer than 8 KiB"))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if strings.Contains(value, nonceMark) {
		p.pieces = strings.Split(value, nonceMark)
		p.fixedLen = len(value) - (len(p.pieces) - 1)
	} else {
		p.static = value
	}
	return p, nil
}

func isNonceOrHash(s Source) bool {
	return s.Kind == SourceHash || strings.HasPrefix(s.Value, "'nonce-")
}

// checkUnsafe reports sources that switch off the protection of CSP.
func checkUnsafe(lists map[string][]Source, field string) []error {
	var errs []error
	fail := func(name string, s Source, reason string) {
		errs = append(errs, &OptionError{Field: field + "." + fieldNames[name], Value: s.Value, Err: because(ErrUnsafeSource, reason)})
	}
	scriptLists := []string{"script-src", "script-src-elem", "script-src-attr"}
	if len(lists["script-src"]) == 0 {
		scriptLists = append(scriptLists, "default-src")
	}
	strictLists := map[string]bool{}
	for _, name := range scriptLists {
		l := lists[name]
		nonceOrHash := slices.ContainsFunc(l, isNonceOrHash)
		strict := nonceOrHash && slices.ContainsFunc(l, func(s Source) bool { return s.Value == StrictDynamic })
		strictLists[name] = strict
		for _, s := range l {
			switch {
			case s.Value == UnsafeInline && !nonceOrHash:
				fail(name, s, "inline scripts run without a nonce or hash")
			case s.Value == UnsafeEval, s.Value == UnsafeHashes:
				fail(name, s, "allows script injection")
			case s.Value == "data:":
				fail(name, s, "data: URLs can carry any script")
			case isBroad(s) && !strict:
				fail(name, s, "allows scripts from any host")
			}
		}
	}
	// An injected <base> naming the attacker's host re-targets every
	// relative nonced (or hashed and 'strict-dynamic') script and style
	// sheet: the reason base-uri 'self' is added to such a policy.
	if slices.ContainsFunc([]string{"default-src", "script-src", "script-src-elem", "style-src", "style-src-elem"},
		func(name string) bool { return slices.ContainsFunc(lists[name], isNonceOrHash) }) {
		for _, s := range lists["base-uri"] {
			if isBroad(s) {
				fail("base-uri", s, "an injected <base> could load the nonced scripts and styles from any host")
			}
		}
	}
	objectSrc := lists["object-src"]
	if len(objectSrc) == 0 {
		objectSrc = lists["default-src"]
	}
	for _, s := range objectSrc {
		switch {
		case s.Value == "data:":
			// As documented for DangerouslyAllowUnsafe (found in
			// review: it passed).
			fail("object-src", s, "data: URLs can carry any plugin content")
		case isBroad(s):
			fail("object-src", s, "allows plugins from any host")
		}
	}
	for _, d := range directives {
		for _, s := range lists[d.name] {
			if s.Value == UnsafeEval && (d.style || d.name == "default-src") {
				if d.name != "default-src" || len(lists["script-src"]) > 0 {
					fail(d.name, s, "allows eval")
				}
			}
			if s.Value == "http:" || strings.HasPrefix(s.Value, "http://") || s.Value == "ftp:" || strings.HasPrefix(s.Value, "ftp://") {
				// A source matching any host in a script list is
				// reported above, or left as the fallback of browsers
				// that ignore 'strict-dynamic'. That excuses it for
				// scripts only: default-src also governs images,
				// styles, frames and fetches, which 'strict-dynamic'
				// does not restrict (found in review: "default-src
				// 'sha256-…' 'strict-dynamic' http:" passed).
				if !isBroad(s) || !slices.Contains(scriptLists, d.name) || d.name == "default-src" && strictLists[d.name] {
					fail(d.name, s, "loads content over an insecure scheme")
				}
			}
		}
	}
	return errs
}

// checkReportURL accepts an absolute https URL or an absolute path, with no
// character that would end the directive or the header.
func checkReportURL(s string) error {
	if len(s) > 2048 {
		return because(ErrPolicy, "report URL longer than 2048 bytes")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ';' || c == ',' || c == '"' || c == '\'' || c == '\\' {
			return because(ErrPolicy, "report URL has a space, control, quote, ';' or ','")
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return because(ErrPolicy, "report URL does not parse")
	}
	switch {
	case u.Scheme == "" && u.Host == "" && strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//"):
		return nil
	case u.Scheme == "https" && u.Host != "" && u.User == nil:
		return nil
	}
	return because(ErrPolicy, "report URL must be an https URL or an absolute path")
}
