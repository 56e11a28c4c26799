package postgres

import (
	"context"
	"time"

	"github.com/distributed-electrons/electrons"
)

// catalogTTL is how long a catalog is reused: configuration changes reach every replica within it.
const catalogTTL = time.Second

// Catalog is the model table and the routes, as read at one moment.
type Catalog struct {
	At     time.Time
	Models map[string]electrons.Model
	Routes map[electrons.TaskType][]string
}

// Catalog returns the models and routes, re-read at most once a second and shared by every
// part of the process (intake, router, workers).
func (s *Store) Catalog(ctx context.Context) (*Catalog, error) {
	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	if s.catalog != nil && time.Since(s.catalog.At) < catalogTTL {
		return s.catalog, nil
	}
	ms, err := s.ListModels(ctx)
	if err != nil {
		return nil, err
	}
	routes, err := s.Routes(ctx)
	if err != nil {
		return nil, err
	}
	c := &Catalog{At: time.Now(), Models: make(map[string]electrons.Model, len(ms)), Routes: routes}
	for _, m := range ms {
		c.Models[m.ID] = m
	}
	s.catalog = c
	return c, nil
}
