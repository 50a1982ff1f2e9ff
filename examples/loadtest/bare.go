package main

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/headers"
)

// bareLayers are the middlewares -serve-bare-with can put around the
// baseline, configured as secureapi configures them, except that
// errorsafe's access log goes straight to logw, one write per record, as
// with secureapi -log-flush 0: secureapi batches it by default.
var bareLayers = map[string]func(logw io.Writer) (func(http.Handler) http.Handler, error){
	"errorsafe": func(logw io.Writer) (func(http.Handler) http.Handler, error) {
		m, err := errorsafe.New(errorsafe.Options{
			Logger:                  slog.New(slog.NewJSONHandler(logw, nil)),
			IgnoreIncomingRequestID: true,
			ReplaceMuxErrors:        true,
		})
		if err != nil {
			return nil, err
		}
		return m.Handler, nil
	},
	"headers": func(io.Writer) (func(http.Handler) http.Handler, error) {
		m, err := headers.New(headers.Options{})
		if err != nil {
			return nil, err
		}
		return m.Handler, nil
	},
}

var bareLayerNames = slices.Sorted(maps.Keys(bareLayers))

// wrapBare wraps h in the comma-separated middlewares of list, outermost
// first; errorsafe logs to logw.
func wrapBare(h http.Handler, list string, logw io.Writer) (http.Handler, error) {
	if list == "" {
		return h, nil
	}
	names := strings.Split(list, ",")
	for i := len(names) - 1; i >= 0; i-- {
		layer, ok := bareLayers[strings.TrimSpace(names[i])]
		if !ok {
			return nil, errors.New("loadtest: -serve-bare-with: unknown middleware " + strconv.Quote(names[i]) + "; known: " + strings.Join(bareLayerNames, ", "))
		}
		mw, err := layer(logw)
		if err != nil {
			return nil, err
		}
		h = mw(h)
	}
	return h, nil
}

// bareTokenTTL is the lifetime of the baseline's tokens.
const bareTokenTTL = time.Hour

// bareMaxTokens bounds the baseline's token table.
const bareMaxTokens = 100_000

// bareClientID is the only client_id the baseline's password grant takes,
// as secureapi takes only its app.ClientID.
const bareClientID = "secureapi-cli"

// newBareMux serves the routes the generator drives on a bare
// [http.ServeMux], with only the application work every implementation
// needs: a password check by constant-time comparison (no hashing), an
// opaque random token kept in a map, a role check for deletes, and the
// JSON bodies, each route answering with secureapi's statuses (its one
// client_id, item ids in their canonical spelling). No headers, CORS,
// rate limits, sessions, JWT, logging, recovery, sanitizing or lockout.
// It is the baseline that measures what
// the protections of secureapi cost (-serve-bare), and the server of the
// end-to-end test.
//
// accounts maps each user name to its role; every account has password.
func newBareMux(accounts map[string]string, password string) http.Handler {
	b := &bare{accounts: accounts, password: []byte(password), tokens: make(map[string]bareToken)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", b.token)
	mux.HandleFunc("GET /users/me/{$}", b.auth(b.me))
	mux.HandleFunc("GET /items/{id}", b.auth(b.item))
	mux.HandleFunc("POST /comment/{$}", b.auth(b.comment))
	mux.HandleFunc("DELETE /users/{id}", b.auth(b.delete))
	return mux
}

type bare struct {
	accounts map[string]string
	password []byte

	mu     sync.RWMutex
	tokens map[string]bareToken
}

type bareToken struct {
	user, role string
	expires    time.Time
}

type bareHandler func(w http.ResponseWriter, r *http.Request, t bareToken)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (b *bare) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "password" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	if r.PostForm.Get("client_id") != bareClientID {
		w.Header().Set("WWW-Authenticate", `Basic realm="secureapi"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	role, known := b.accounts[r.PostForm.Get("username")]
	if !known || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("password")), b.password) != 1 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	tok := rand.Text()
	b.mu.Lock()
	if len(b.tokens) >= bareMaxTokens {
		now := time.Now()
		for k, t := range b.tokens {
			if now.After(t.expires) {
				delete(b.tokens, k)
			}
		}
	}
	full := len(b.tokens) >= bareMaxTokens
	if !full {
		b.tokens[tok] = bareToken{user: r.PostForm.Get("username"), role: role, expires: time.Now().Add(bareTokenTTL)}
	}
	b.mu.Unlock()
	if full {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable"})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "token_type": "Bearer", "expires_in": int(bareTokenTTL.Seconds()),
	})
}

func (b *bare) auth(next bareHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		b.mu.RLock()
		t, found := b.tokens[tok]
		b.mu.RUnlock()
		if !ok || !found || time.Now().After(t.expires) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next(w, r, t)
	}
}

func (b *bare) me(w http.ResponseWriter, r *http.Request, t bareToken) {
	writeJSON(w, http.StatusOK, map[string]any{"username": t.user, "roles": []string{t.role}})
}

func (b *bare) item(w http.ResponseWriter, r *http.Request, t bareToken) {
	v := r.PathValue("id")
	id, err := strconv.Atoi(v)
	if err != nil || id < 1 || id > 100 || strconv.Itoa(id) != v { // no "+7" or "007", as secureapi
		w.WriteHeader(http.StatusNotFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "name": "item " + strconv.Itoa(id)})
}

func (b *bare) comment(w http.ResponseWriter, r *http.Request, t bareToken) {
	var c struct {
		Body string `json:"body"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&c); err != nil || c.Body == "" {
		w.WriteHeader(http.StatusUnprocessableEntity)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"body": c.Body})
}

func (b *bare) delete(w http.ResponseWriter, r *http.Request, t bareToken) {
	if t.role != roleAdmin {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if _, ok := b.accounts[r.PathValue("id")]; !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	// The demo accounts are never really deleted: the baseline must
	// serve the whole run.
	w.WriteHeader(http.StatusNoContent)
}
