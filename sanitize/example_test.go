package sanitize_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"time"

	"github.com/httpguard/httpguard/sanitize"
)

func ExampleUserContent() {
	fmt.Println(sanitize.UserContent().Sanitize(`<b>hi</b> <a href="https://example.com" onclick="steal()">x</a><script>alert(1)</script>`))
	// Output: <b>hi</b> <a href="https://example.com" rel="nofollow noopener" target="_blank">x</a>
}

func ExampleText() {
	fmt.Println(sanitize.Text(`<img src=x onerror=alert(1)>Bob & "Alice"`))
	// Output: Bob &amp; &#34;Alice&#34;
}

// A handler decodes, sanitizes and validates a JSON body in one call; on
// error the 4xx response is already written.
func ExampleDecodeJSON() {
	type Comment struct {
		Body string `json:"body" sanitize:"trim,html=ugc" validate:"required,max=200"`
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := sanitize.DecodeJSON[Comment](nil, w, r)
		if err != nil {
			return
		}
		fmt.Fprint(w, c.Body)
	})
	for _, body := range []string{`{"body":" <i>nice</i><script>x</script> "}`, `{"body":""}`, `{"body":"x","admin":true}`} {
		r := httptest.NewRequest(http.MethodPost, "/comment/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body.String())
	}
	// Output:
	// 200 <i>nice</i>
	// 422 {"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"The request has invalid fields.","errors":[{"field":"body","rule":"required","message":"is required"}]}
	//
	// 400 {"type":"about:blank","title":"Bad Request","status":400}
}

func ExampleNewBodyLimit() {
	limit, err := sanitize.NewBodyLimit(sanitize.BodyOptions{MaxBytes: 1 << 10})
	if err != nil {
		panic(err)
	}
	h := limit.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("<xml/>"))
	r.Header.Set("Content-Type", "application/xml")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code)
	// Output: 415
}

// A Decoder configured once and shared by the handlers: here it accepts
// bodies of at most 1 KiB. Passing nil to DecodeJSON uses the defaults
// instead.
func ExampleNew() {
	d, err := sanitize.New(sanitize.Options{MaxBytes: 1 << 10})
	if err != nil {
		log.Fatal(err)
	}
	type Note struct {
		Text string `json:"text" sanitize:"trim" validate:"required"`
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := sanitize.DecodeJSON[Note](d, w, r)
		if err != nil {
			return // the response is written
		}
		fmt.Fprint(w, n.Text)
	})
	for _, body := range []string{`{"text":"  hello "}`, `{"text":"` + strings.Repeat("x", 2<<10) + `"}`} {
		r := httptest.NewRequest(http.MethodPost, "/notes", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body.Len() > 0)
	}
	// Output:
	// 200 true
	// 413 true
}

// A service reads its configuration file as strictly as a request body:
// a member in another letter case, given twice, or not declared is an
// error rather than a setting silently taken or lost.
func ExampleUnmarshal() {
	type Config struct {
		Listen string   `json:"listen" sanitize:"trim" validate:"required,hostname_port"`
		Admins []string `json:"admins" sanitize:"trim,lower" validate:"max=10,dive,email"`
	}
	d := sanitize.MustNew(sanitize.Options{MaxBytes: 64 << 10})
	for _, file := range []string{
		`{"listen": " 127.0.0.1:8080 ", "admins": ["Root@Example.com"]}`,
		`{"listen": "127.0.0.1:8080", "Admins": ["eve@example.com"]}`,
		`{"listen": "127.0.0.1:8080", "admins": ["root"]}`,
	} {
		cfg, err := sanitize.Unmarshal[Config](d, []byte(file))
		if err != nil {
			fmt.Println("refused:", err)
			continue
		}
		fmt.Printf("%q %q\n", cfg.Listen, cfg.Admins)
	}
	// Output:
	// "127.0.0.1:8080" ["root@example.com"]
	// refused: sanitize: unknown field: a member name that matches a field only in letter case
	// refused: sanitize: invalid fields: admins[0] (email)
}

// An application's rule, registered once in New and named in tags as a
// built-in rule is. The 422 shows the rule's constant message, never the
// value sent.
func ExampleRuleFor() {
	sku := regexp.MustCompile(`^[A-Z]{2}-[0-9]{4}$`)
	d, err := sanitize.New(sanitize.Options{Rules: map[string]sanitize.Rule{
		"sku": sanitize.RuleFor(sku.MatchString, "must be a SKU such as AB-1234"),
	}})
	if err != nil {
		log.Fatal(err)
	}
	type Item struct {
		SKU string `json:"sku" sanitize:"trim,upper" validate:"required,sku"`
	}
	for _, body := range []string{`{"sku":" ab-1234 "}`, `{"sku":"<script>x</script>"}`} {
		r := httptest.NewRequest(http.MethodPost, "/items", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		if it, err := sanitize.DecodeJSON[Item](d, w, r); err == nil {
			fmt.Println(it.SKU)
			continue
		}
		fmt.Println(w.Code, w.Body.String())
	}
	// Output:
	// AB-1234
	// 422 {"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"The request has invalid fields.","errors":[{"field":"sku","rule":"sku","message":"must be a SKU such as AB-1234"}]}
}

// Booking checks across its fields, once its tags have passed: the end
// must come after the start.
type Booking struct {
	Start time.Time `json:"start" validate:"required"`
	End   time.Time `json:"end" validate:"required"`
}

func (b *Booking) Validate() []sanitize.FieldError {
	if !b.End.After(b.Start) {
		return []sanitize.FieldError{{Field: "end", Rule: "after_start", Message: "must be after start"}}
	}
	return nil
}

func ExampleValidator() {
	body := `{"start":"2026-05-02T10:00:00Z","end":"2026-05-01T10:00:00Z"}`
	r := httptest.NewRequest(http.MethodPost, "/bookings", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	_, err := sanitize.DecodeJSON[Booking](nil, w, r)
	fmt.Println(err)
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// sanitize: invalid fields: end (after_start)
	// 422 {"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"The request has invalid fields.","errors":[{"field":"end","rule":"after_start","message":"must be after start"}]}
}

// ExampleOptions_useNumber keeps the digits of numbers in free-form JSON:
// a webhook's payload, an event's attributes. Without UseNumber, the
// order ID below would become the float64 12345678901234567000.
func ExampleOptions_useNumber() {
	type Event struct {
		Type       string         `json:"type" validate:"required"`
		Attributes map[string]any `json:"attributes"`
	}
	d, err := sanitize.New(sanitize.Options{UseNumber: true})
	if err != nil {
		log.Fatal(err)
	}
	e, err := sanitize.Unmarshal[Event](d, []byte(`{"type":"order.paid","attributes":{"order":12345678901234567891,"total":19.99}}`))
	if err != nil {
		log.Fatal(err)
	}
	order := e.Attributes["order"].(json.Number)
	fmt.Println(order, e.Attributes["total"])
	// Output: 12345678901234567891 19.99
}
