package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/distributed-electrons/electrons/migrations"
)

// DefaultDatabaseURL is used when ELECTRONS_TEST_DATABASE_URL is unset. It
// must name a database (normally `postgres`) that the user may connect to and
// create databases from.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

const startPostgres = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start   (or: make services)"

// DBEnv is a database of its own for one test, migrated to the latest schema.
type DBEnv struct {
	// URL connects to this test's database.
	URL string
	// Pool is connected to URL and closed when the test ends.
	Pool *pgxpool.Pool
}

// DB creates a fresh database for the test by cloning the migrated template
// (creating the template first if this version of the migrations has none
// yet). The database is dropped when the test ends. The server is taken from
// ELECTRONS_TEST_DATABASE_URL (default DefaultDatabaseURL).
func DB(t testing.TB) *DBEnv {
	t.Helper()
	baseURL := getenv("ELECTRONS_TEST_DATABASE_URL", DefaultDatabaseURL)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	admin, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		t.Fatalf("testenv: postgres at %s is unreachable: %v\nstart it with: %s", redact(baseURL), err, startPostgres)
	}
	defer admin.Close(context.Background())

	tpl, err := ensureTemplate(ctx, admin, baseURL)
	if err != nil {
		t.Fatalf("testenv: template database: %v", err)
	}

	name := "electrons_test_" + randomName(12)
	if err := cloneDatabase(ctx, admin, name, tpl); err != nil {
		t.Fatalf("testenv: create database %s: %v", name, err)
	}

	env := &DBEnv{URL: withDatabase(baseURL, name)}
	t.Cleanup(func() {
		if env.Pool != nil {
			env.Pool.Close()
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, baseURL)
		if err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})

	env.Pool, err = pgxpool.New(ctx, env.URL)
	if err != nil {
		t.Fatalf("testenv: connect to %s: %v", name, err)
	}
	if err := env.Pool.Ping(ctx); err != nil {
		t.Fatalf("testenv: connect to %s: %v", name, err)
	}
	return env
}

// withDatabase returns baseURL with its database replaced by name.
func withDatabase(baseURL, name string) string {
	u, err := url.Parse(baseURL)
	if err != nil {
		// pgx.Connect already accepted baseURL; a keyword/value DSN lands here.
		return baseURL + " dbname=" + name
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// cloneDatabase creates name from the template, retrying while the template
// is briefly in use (a backend that has just disconnected from it).
func cloneDatabase(ctx context.Context, admin *pgx.Conn, name, tpl string) error {
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{tpl}.Sanitize()
	for {
		_, err := admin.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "55006" { // object_in_use
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var tplState struct {
	sync.Mutex
	name string // set once the template is known to be ready
}

// templateName names the template after the migrations, so that a change to
// them (or to River's, through its version) makes a new template.
func templateName() string {
	h := sha256.New()
	h.Write([]byte(migrations.Hash()))
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == "github.com/riverqueue/river" {
				h.Write([]byte("\x00" + dep.Version))
			}
		}
	}
	return "electrons_tpl_" + hex.EncodeToString(h.Sum(nil))[:12]
}

// templateLockKey is the advisory lock (on the base database) that serializes
// template creation across test binaries running in parallel.
func templateLockKey() int64 {
	h := fnv.New64a()
	h.Write([]byte("github.com/distributed-electrons/electrons/internal/testenv template"))
	return int64(h.Sum64())
}

// ensureTemplate returns the name of a migrated template database, creating
// it if needed. A finished template is marked IS_TEMPLATE and closed to
// connections; one left unfinished by a crashed run is dropped and rebuilt.
func ensureTemplate(ctx context.Context, admin *pgx.Conn, baseURL string) (string, error) {
	tplState.Lock()
	defer tplState.Unlock()
	if tplState.name != "" {
		return tplState.name, nil
	}
	name := templateName()

	ready := func() (exists, done bool, err error) {
		var isTemplate, allowConn bool
		err = admin.QueryRow(ctx, "SELECT datistemplate, datallowconn FROM pg_database WHERE datname = $1", name).Scan(&isTemplate, &allowConn)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, false, nil
		}
		if err != nil {
			return false, false, err
		}
		return true, isTemplate && !allowConn, nil
	}

	if _, done, err := ready(); err != nil {
		return "", err
	} else if done {
		tplState.name = name
		return name, nil
	}

	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockKey()); err != nil {
		return "", fmt.Errorf("advisory lock: %w", err)
	}
	defer func() {
		// Closing the session would release the lock too; unlock early so
		// that other binaries need not wait for this test's clone.
		_, _ = admin.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", templateLockKey())
	}()

	exists, done, err := ready()
	if err != nil {
		return "", err
	}
	if done {
		tplState.name = name
		return name, nil
	}
	ident := pgx.Identifier{name}.Sanitize()
	if exists {
		if _, err := admin.Exec(ctx, "ALTER DATABASE "+ident+" WITH IS_TEMPLATE false"); err != nil {
			return "", fmt.Errorf("unmark unfinished template %s: %w", name, err)
		}
		if _, err := admin.Exec(ctx, "DROP DATABASE "+ident+" WITH (FORCE)"); err != nil {
			return "", fmt.Errorf("drop unfinished template %s: %w", name, err)
		}
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", fmt.Errorf("create %s: %w", name, err)
	}
	if err := migrate(ctx, withDatabase(baseURL, name)); err != nil {
		return "", fmt.Errorf("migrate %s: %w", name, err)
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+ident+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return "", fmt.Errorf("mark %s as template: %w", name, err)
	}
	tplState.name = name
	return name, nil
}

func migrate(ctx context.Context, dbURL string) error {
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	return migrations.Up(ctx, pool)
}
