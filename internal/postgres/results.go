package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/distributed-electrons/electrons"
)

// ArtifactRow is a stored artifact.
type ArtifactRow struct {
	electrons.Artifact
	InstanceID string
	RequestID  string
	StorageKey string
}

// InsertArtifactsTx records stored artifacts.
func InsertArtifactsTx(ctx context.Context, tx pgx.Tx, arts []ArtifactRow) error {
	for _, a := range arts {
		_, err := tx.Exec(ctx, `INSERT INTO artifacts (id, instance_id, request_id, storage_key, content_type, size_bytes, sha256) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
			a.ID, a.InstanceID, a.RequestID, a.StorageKey, a.ContentType, a.SizeBytes, a.SHA256)
		if err != nil {
			return fmt.Errorf("insert artifact %s: %w", a.ID, err)
		}
	}
	return nil
}

// EventRow is an entry of the activity feed.
type EventRow struct {
	ID         string
	InstanceID string
	Type       string
	EntityType string
	EntityID   string
	Data       []byte
}

// InsertEventTx records an event in the activity feed.
func InsertEventTx(ctx context.Context, q Querier, e EventRow) error {
	if e.ID == "" {
		e.ID = electrons.NewID(electrons.PrefixEvent)
	}
	_, err := q.Exec(ctx, `INSERT INTO events (id, instance_id, type, entity_type, entity_id, data) VALUES ($1,$2,$3,$4,$5,$6)`,
		e.ID, e.InstanceID, e.Type, e.EntityType, e.EntityID, e.Data)
	if err != nil {
		return fmt.Errorf("insert event %s: %w", e.Type, err)
	}
	return nil
}
