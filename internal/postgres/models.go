package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/distributed-electrons/electrons"
)

// ListModels returns every model, sorted by id.
func (s *Store) ListModels(ctx context.Context) ([]electrons.Model, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, provider, provider_model, task_type, enabled, defaults FROM models ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	defer rows.Close()
	var out []electrons.Model
	for rows.Next() {
		var m electrons.Model
		var defaults []byte
		if err := rows.Scan(&m.ID, &m.Provider, &m.ProviderModel, &m.TaskType, &m.Enabled, &defaults); err != nil {
			return nil, err
		}
		_ = json.Unmarshal(defaults, &m.Defaults)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Routes returns, per task type, the ordered model ids to try.
func (s *Store) Routes(ctx context.Context) (map[electrons.TaskType][]string, error) {
	rows, err := s.Pool.Query(ctx, `SELECT task_type, models FROM routes`)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	defer rows.Close()
	out := map[electrons.TaskType][]string{}
	for rows.Next() {
		var t string
		var ms []string
		if err := rows.Scan(&t, &ms); err != nil {
			return nil, err
		}
		out[electrons.TaskType(t)] = ms
	}
	return out, rows.Err()
}
