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
	})
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
