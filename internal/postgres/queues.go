package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// QueueStats is one River queue as operators see it.
type QueueStats struct {
	Name             string  `json:"name"`
	Paused           bool    `json:"paused"`
	Queued           int     `json:"queued"`
	Scheduled        int     `json:"scheduled"`
	Running          int     `json:"running"`
	Retrying         int     `json:"retrying"`
	Dead             int     `json:"dead"`
	OldestAgeSeconds float64 `json:"oldest_age_seconds"`
	ThroughputPerMin float64 `json:"throughput_per_min"`
}

// Queues reads every River queue's counts from River's own tables.
func (s *Store) Queues(ctx context.Context) ([]QueueStats, error) {
	m := map[string]*QueueStats{}
	get := func(n string) *QueueStats {
		if q, ok := m[n]; ok {
			return q
		}
		q := &QueueStats{Name: n}
		m[n] = q
		return q
	}
	rows, err := s.Pool.Query(ctx, `SELECT queue, state::text, count(*), min(scheduled_at) FROM river_job
		WHERE state IN ('available','scheduled','running','retryable','discarded') GROUP BY queue, state`)
	if err != nil {
		return nil, fmt.Errorf("queue counts: %w", err)
	}
	for rows.Next() {
		var name, state string
		var n int
		var oldest *time.Time
		if err := rows.Scan(&name, &state, &n, &oldest); err != nil {
			rows.Close()
			return nil, err
		}
		q := get(name)
		switch state {
		case "available":
			q.Queued = n
			if oldest != nil {
				q.OldestAgeSeconds = max(time.Since(*oldest).Seconds(), 0)
			}
		case "scheduled":
			q.Scheduled = n
		case "running":
			q.Running = n
		case "retryable":
			q.Retrying = n
		case "discarded":
			q.Dead = n
		}
	}
	rows.Close()
	rows, err = s.Pool.Query(ctx, `SELECT queue, count(*) FROM river_job WHERE state = 'completed' AND finalized_at > now() - interval '1 minute' GROUP BY queue`)
	if err != nil {
		return nil, fmt.Errorf("queue throughput: %w", err)
	}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			rows.Close()
			return nil, err
		}
		get(name).ThroughputPerMin = float64(n)
	}
	rows.Close()
	rows, err = s.Pool.Query(ctx, `SELECT name, paused_at IS NOT NULL FROM river_queue`)
	if err != nil {
		return nil, fmt.Errorf("queue pause state: %w", err)
	}
	for rows.Next() {
		var name string
		var paused bool
		if err := rows.Scan(&name, &paused); err != nil {
			rows.Close()
			return nil, err
		}
		get(name).Paused = paused
	}
	rows.Close()
	out := make([]QueueStats, 0, len(m))
	for _, q := range m {
		out = append(out, *q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
