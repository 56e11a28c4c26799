package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ClaimedOutbox is an outbox row being published.
type ClaimedOutbox struct {
	ID int64
	OutboxMessage
}

// PublishOutbox locks up to limit unpublished messages (skipping those another replica holds),
// hands them to publish, and deletes those publish reports as done — all in one transaction, so a
// crash anywhere leaves the messages to be published again (NATS deduplicates by message id).
func (s *Store) PublishOutbox(ctx context.Context, limit int, publish func([]ClaimedOutbox) (done []int64, err error)) (int, error) {
	n := 0
	var perr error
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, subject, msg_id, payload FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, limit)
		if err != nil {
			return fmt.Errorf("claim outbox: %w", err)
		}
		var msgs []ClaimedOutbox
		for rows.Next() {
			var m ClaimedOutbox
			if err := rows.Scan(&m.ID, &m.Subject, &m.MsgID, &m.Payload); err != nil {
				rows.Close()
				return err
			}
			msgs = append(msgs, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(msgs) == 0 {
			return nil
		}
		var done []int64
		done, perr = publish(msgs)
		if len(done) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM outbox WHERE id = ANY($1)`, done); err != nil {
				return fmt.Errorf("delete outbox: %w", err)
			}
		}
		n = len(done)
		return nil
	})
	if err == nil {
		err = perr
	}
	return n, err
}
