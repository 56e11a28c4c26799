// Package postgres is the store: every query of our own tables, over pgx.
package postgres

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/distributed-electrons/electrons"
)

// ErrNotFound is returned when a row does not exist (or belongs to another instance).
var ErrNotFound = electrons.Errorf(electrons.CodeNotFound, "not found")

// Store runs our queries. It is safe for concurrent use.
type Store struct {
	Pool   *pgxpool.Pool
	sealer *sealer

	catalogMu sync.Mutex
	catalog   *Catalog
}

// StoreConfig configures a Store.
type StoreConfig struct {
	// SecretKey, when set, encrypts stored secrets (webhook signing secrets) with AES-256-GCM
	// under a key derived from it. Default: secrets are stored as they are.
	SecretKey string
}

// New returns a store over pool.
func New(pool *pgxpool.Pool, cfg StoreConfig) *Store {
	s := &Store{Pool: pool}
	if cfg.SecretKey != "" {
		k := sha256.Sum256([]byte(cfg.SecretKey))
		block, _ := aes.NewCipher(k[:])
		gcm, _ := cipher.NewGCM(block)
		s.sealer = &sealer{aead: gcm}
	}
	return s
}

// Querier is what both a pool and a transaction can do.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// InTx runs fn in a transaction, committing if it returns nil.
func (s *Store) InTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.Pool, fn)
}

type sealer struct{ aead cipher.AEAD }

const sealedPrefix = "enc:v1:"

func (s *Store) seal(plain string) string {
	if s.sealer == nil {
		return plain
	}
	nonce := make([]byte, s.sealer.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return sealedPrefix + base64.StdEncoding.EncodeToString(s.sealer.aead.Seal(nonce, nonce, []byte(plain), nil))
}

func (s *Store) open(stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	if s.sealer == nil {
		return "", errors.New("stored secret is encrypted but ELECTRONS_SECRET_KEY is not set")
	}
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return "", fmt.Errorf("decode sealed secret: %w", err)
	}
	n := s.sealer.aead.NonceSize()
	if len(raw) < n {
		return "", errors.New("sealed secret too short")
	}
	plain, err := s.sealer.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", fmt.Errorf("open sealed secret (wrong ELECTRONS_SECRET_KEY?): %w", err)
	}
	return string(plain), nil
}
