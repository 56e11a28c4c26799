// Command electrons is the Distributed Electrons server: serve, dev, migrate and keys.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "electrons:", err)
		}
		os.Exit(1)
	}
}

const usage = `electrons — the Distributed Electrons server

usage:
  electrons serve [--roles api,router,worker,delivery] [flags]   run the platform (all roles by default)
  electrons dev [flags]                                          everything in one process for a laptop
  electrons migrate [up|down|status] [flags]                     manage the database schema
  electrons keys create --instance NAME [--admin] [flags]        create an API key (printed once, last line)

Every flag is also an environment variable: --http-addr is ELECTRONS_HTTP_ADDR.
Run "electrons serve -h" for the list.
`

// run is the whole program, callable from tests with its own arguments and environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("a command is required")
	}
	switch args[0] {
	case "serve", "dev":
		return runServer(ctx, args[0], args[1:], getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], getenv, stdout, stderr)
	case "keys":
		return runKeys(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// parseConfig reads the environment and the flags of a command into a validated Config.
func parseConfig(cmd string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (*Config, []string, error) {
	cfg := defaultConfig(cmd)
	fs := flag.NewFlagSet("electrons "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	envErr := cfg.bind(fs, getenv)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if envErr != nil {
		return nil, nil, fmt.Errorf("configuration: %w", envErr)
	}
	if err := cfg.validate(); err != nil {
		return nil, nil, fmt.Errorf("configuration: %w", err)
	}
	return &cfg, fs.Args(), nil
}
