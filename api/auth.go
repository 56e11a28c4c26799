package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/internal/postgres"
)

type principalKey struct{}

type cachedPrincipal struct {
	p  *postgres.Principal
	at time.Time
}

// keyCacheTTL bounds how long a revoked key keeps working on a replica.
const keyCacheTTL = time.Second

func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			s.problem(w, r, electrons.Errorf(electrons.CodeUnauthorized, "an API key is required: Authorization: Bearer <key>"))
			return
		}
		s.withKey(w, r, key, next)
	})
}

// browserAdmin lets admin keys through as a bearer token or as the password of HTTP basic auth,
// which a browser asks for.
func (s *Server) browserAdmin(next http.Handler) http.Handler {
	admin := s.admin(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			_, key, ok = r.BasicAuth()
		}
		if !ok || strings.TrimSpace(key) == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="electrons admin", charset="UTF-8"`)
			s.problem(w, r, electrons.Errorf(electrons.CodeUnauthorized, "an admin API key is required (as the password)"))
			return
		}
		s.withKey(w, r, strings.TrimSpace(key), admin)
	})
}

// withKey authenticates key and serves next as its principal.
func (s *Server) withKey(w http.ResponseWriter, r *http.Request, key string, next http.Handler) {
	h := string(postgres.HashKey(key))
	var p *postgres.Principal
	if c, ok := s.keyCache.Load(h); ok && time.Since(c.(cachedPrincipal).at) < keyCacheTTL {
		p = c.(cachedPrincipal).p
	} else {
		var err error
		p, err = s.store.Authenticate(r.Context(), key)
		if errors.Is(err, postgres.ErrNotFound) {
			s.problem(w, r, electrons.Errorf(electrons.CodeUnauthorized, "the API key is not valid"))
			return
		}
		if err != nil {
			s.problem(w, r, err)
			return
		}
		s.keyCache.Store(h, cachedPrincipal{p: p, at: time.Now()})
	}
	next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
}

func principal(r *http.Request) *postgres.Principal {
	return r.Context().Value(principalKey{}).(*postgres.Principal)
}

func (s *Server) admin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !principal(r).Admin {
			s.problem(w, r, electrons.Errorf(electrons.CodeForbidden, "this needs an admin key"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
