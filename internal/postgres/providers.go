package postgres

import (
	"context"
	"fmt"
	"time"
)

// ProviderState is what a provider last said of its own limits.
type ProviderState struct {
	Provider          string
	LimitRequests     *int
	RemainingRequests *int
	ResetAt           *time.Time
	CooldownUntil     *time.Time
	UpdatedAt         time.Time
}

// ObserveLimits records the limit state a provider reported on its last answer.
func (s *Store) ObserveLimits(ctx context.Context, provider string, limit, remaining int, reset time.Time) error {
	var r *time.Time
	if !reset.IsZero() {
		r = &reset
	}
	_, err := s.Pool.Exec(ctx, `INSERT INTO provider_state (provider, limit_requests, remaining_requests, reset_at, updated_at) VALUES ($1,$2,$3,$4,now())
		ON CONFLICT (provider) DO UPDATE SET limit_requests = $2, remaining_requests = $3, reset_at = $4, updated_at = now()`, provider, limit, remaining, r)
	if err != nil {
		return fmt.Errorf("observe limits of %s: %w", provider, err)
	}
	return nil
}

// Cooldown records that a provider asked us to wait until t (a rate-limit answer's retry-after).
func (s *Store) Cooldown(ctx context.Context, provider string, until time.Time) error {
	_, err := s.Pool.Exec(ctx, `INSERT INTO provider_state (provider, cooldown_until, updated_at) VALUES ($1,$2,now())
		ON CONFLICT (provider) DO UPDATE SET cooldown_until = GREATEST(provider_state.cooldown_until, $2), updated_at = now()`, provider, until)
	if err != nil {
		return fmt.Errorf("cooldown of %s: %w", provider, err)
	}
	return nil
}

// ProviderStates returns the recorded state of every provider that reported one.
func (s *Store) ProviderStates(ctx context.Context) (map[string]ProviderState, error) {
	rows, err := s.Pool.Query(ctx, `SELECT provider, limit_requests, remaining_requests, reset_at, cooldown_until, updated_at FROM provider_state`)
	if err != nil {
		return nil, fmt.Errorf("provider states: %w", err)
	}
	defer rows.Close()
	out := map[string]ProviderState{}
	for rows.Next() {
		var p ProviderState
		if err := rows.Scan(&p.Provider, &p.LimitRequests, &p.RemainingRequests, &p.ResetAt, &p.CooldownUntil, &p.UpdatedAt); err != nil {
			return nil, err
		}
		out[p.Provider] = p
	}
	return out, rows.Err()
}
