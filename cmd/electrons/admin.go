package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/distributed-electrons/electrons/internal/postgres"
	"github.com/distributed-electrons/electrons/migrations"
)

// openDB connects to the database, creating it first if it does not exist.
func openDB(ctx context.Context, dbURL string) (*pgxpool.Pool, error) {
	if err := ensureDatabase(ctx, dbURL); err != nil {
		return nil, err
	}
	pcfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("ELECTRONS_DATABASE_URL: %w", err)
	}
	if pcfg.MaxConns < 20 {
		pcfg.MaxConns = 20
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	return pool, nil
}

func ensureDatabase(ctx context.Context, dbURL string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return fmt.Errorf("ELECTRONS_DATABASE_URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || name == "postgres" {
		return nil
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err == nil {
		return conn.Close(ctx)
	}
	var pe interface{ SQLState() string }
	if !errors.As(err, &pe) || pe.SQLState() != "3D000" { // invalid_catalog_name: the database is missing
		return fmt.Errorf("connect postgres: %w", err)
	}
	maint := *u
	maint.Path = "/postgres"
	mc, err := pgx.Connect(ctx, maint.String())
	if err != nil {
		return fmt.Errorf("connect postgres to create database %s: %w", name, err)
	}
	defer mc.Close(ctx)
	_, err = mc.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, rest, err := parseConfig("migrate", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	dir := "up"
	if len(rest) > 0 {
		dir = rest[0]
	}
	pool, err := openDB(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	switch dir {
	case "up":
		if err := migrations.Up(ctx, pool); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "migrations applied")
	case "down":
		msg, err := migrations.Down(ctx, pool)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, msg)
	case "status":
		st, err := migrations.Status(ctx, pool)
		if err != nil {
			return err
		}
		for _, s := range st {
			state := "pending"
			if s.Applied {
				state = "applied"
			}
			fmt.Fprintf(stdout, "%05d  %-8s %s\n", s.Version, state, s.Name)
		}
	default:
		return fmt.Errorf("migrate: unknown direction %q (up, down or status)", dir)
	}
	return nil
}

func runKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: electrons keys create --instance NAME [--admin]")
	}
	var instance string
	var admin bool
	cfg, _, err := parseConfig("keys", args[1:], getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&instance, "instance", "", "instance (tenant) name; created if needed")
		fs.BoolVar(&admin, "admin", false, "the key can manage configuration")
	})
	if err != nil {
		return err
	}
	if instance == "" {
		return errors.New("keys create: --instance is required")
	}
	pool, err := openDB(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.Up(ctx, pool); err != nil {
		return err
	}
	st := postgres.New(pool, postgres.StoreConfig{SecretKey: cfg.SecretKey})
	inst, err := st.EnsureInstance(ctx, instance)
	if err != nil {
		return err
	}
	key := postgres.NewAPIKey()
	id, err := st.CreateKey(ctx, inst.ID, key, admin)
	if err != nil {
		return err
	}
	kind := "key"
	if admin {
		kind = "admin key"
	}
	fmt.Fprintf(stdout, "created %s %s for instance %s (%s); it is shown only once:\n%s\n", kind, id, inst.Name, inst.ID, key)
	return nil
}
