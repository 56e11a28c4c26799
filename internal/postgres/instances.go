package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/distributed-electrons/electrons"
)

// webhookSecretFunc makes new webhook signing secrets; the delivery package owns the format,
// but the store only needs "whsec_" + base64 of random bytes, which it builds itself.
func newWebhookSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "whsec_" + b64(b)
}

// EnsureInstance returns the instance called name, creating it (with a webhook secret) if needed.
func (s *Store) EnsureInstance(ctx context.Context, name string) (*electrons.Instance, error) {
	id := electrons.NewID(electrons.PrefixInstance)
	_, err := s.Pool.Exec(ctx, `INSERT INTO instances (id, name, webhook_secret) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
		id, name, s.seal(newWebhookSecret()))
	if err != nil {
		return nil, fmt.Errorf("insert instance %s: %w", name, err)
	}
	var inst electrons.Instance
	if err := s.Pool.QueryRow(ctx, `SELECT id, name FROM instances WHERE name = $1`, name).Scan(&inst.ID, &inst.Name); err != nil {
		return nil, fmt.Errorf("select instance %s: %w", name, err)
	}
	return &inst, nil
}

// GetInstance returns an instance with its current webhook secret.
func (s *Store) GetInstance(ctx context.Context, id string) (*electrons.Instance, error) {
	var inst electrons.Instance
	var secret string
	err := s.Pool.QueryRow(ctx, `SELECT id, name, webhook_secret FROM instances WHERE id = $1`, id).Scan(&inst.ID, &inst.Name, &secret)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("select instance %s: %w", id, err)
	}
	if inst.WebhookSecret, err = s.open(secret); err != nil {
		return nil, err
	}
	return &inst, nil
}

// InstanceSecrets returns the secrets that sign an instance's callback webhooks: the current one
// first, then a rotated one that is still live.
func (s *Store) InstanceSecrets(ctx context.Context, id string) ([]string, error) {
	var cur string
	var prev *string
	var until *time.Time
	err := s.Pool.QueryRow(ctx, `SELECT webhook_secret, prev_webhook_secret, prev_secret_until FROM instances WHERE id = $1`, id).Scan(&cur, &prev, &until)
	if err != nil {
		return nil, fmt.Errorf("select instance secrets %s: %w", id, err)
	}
	c, err := s.open(cur)
	if err != nil {
		return nil, err
	}
	out := []string{c}
	if prev != nil && until != nil && time.Now().Before(*until) {
		p, err := s.open(*prev)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// RotateWebhookSecret gives the instance a new secret; the old one keeps signing alongside for grace.
func (s *Store) RotateWebhookSecret(ctx context.Context, id string, grace time.Duration) (*electrons.Instance, error) {
	_, err := s.Pool.Exec(ctx, `UPDATE instances SET prev_webhook_secret = webhook_secret, prev_secret_until = now() + $2::interval, webhook_secret = $3 WHERE id = $1`,
		id, fmt.Sprintf("%d seconds", int(grace.Seconds())), s.seal(newWebhookSecret()))
	if err != nil {
		return nil, fmt.Errorf("rotate secret %s: %w", id, err)
	}
	return s.GetInstance(ctx, id)
}

// Principal is who an API key speaks for.
type Principal struct {
	KeyID      string
	InstanceID string
	Admin      bool
}

// HashKey is how API keys are stored: SHA-256 (keys are long random strings, so a fast hash is
// enough and lets every request be checked without a slow KDF).
func HashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// NewAPIKey makes a new random API key.
func NewAPIKey() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "de_" + hex.EncodeToString(b)
}

// CreateKey stores key (hashed) for the instance.
func (s *Store) CreateKey(ctx context.Context, instanceID, key string, admin bool) (string, error) {
	id := electrons.NewID(electrons.PrefixKey)
	hint := key
	if len(hint) > 10 {
		hint = hint[:10]
	}
	_, err := s.Pool.Exec(ctx, `INSERT INTO api_keys (id, instance_id, hash, hint, admin) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (hash) DO UPDATE SET revoked_at = NULL, admin = EXCLUDED.admin`, id, instanceID, HashKey(key), hint, admin)
	if err != nil {
		return "", fmt.Errorf("insert key: %w", err)
	}
	return id, nil
}

// Authenticate returns the principal of a key, or ErrNotFound.
func (s *Store) Authenticate(ctx context.Context, key string) (*Principal, error) {
	var p Principal
	err := s.Pool.QueryRow(ctx, `SELECT id, instance_id, admin FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`, HashKey(key)).Scan(&p.KeyID, &p.InstanceID, &p.Admin)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	return &p, nil
}
