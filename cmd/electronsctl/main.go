// Command electronsctl is the operator and client CLI of Distributed Electrons.
// It speaks to a server over the HTTP API (package api/client), noun first:
//
//	electronsctl requests submit --prompt "hello" --wait
//	electronsctl batches submit jobs.jsonl --wait
//	electronsctl queues list -o json
//
// The server is chosen with --url (env ELECTRONS_URL) and the API key with --key
// (env ELECTRONS_API_KEY). Exit status: 0 on success, 1 on an error, 2 on a usage
// error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/distributed-electrons/electrons/api/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err))
}

// exitCode maps run's error to the process exit status.
func exitCode(err error) int {
	var u *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &u):
		return 2
	}
	return 1
}

// usageError is an error in how the command was called (unknown command or
// flag, wrong number of arguments, bad flag value): exit status 2.
type usageError struct {
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// Defaults of the global flags.
const (
	defaultURL = "http://127.0.0.1:8080"
	envURL     = "ELECTRONS_URL"
	envKey     = "ELECTRONS_API_KEY"
)

// app is what every command shares: the global options, the API client and
// where output goes.
type app struct {
	env            func(string) string
	stdout, stderr io.Writer

	url    string
	key    string
	output string // table or json

	client *client.Client
}

// run is the whole CLI: it parses args (without the program name), runs the
// command and writes its output to stdout and diagnostics to stderr. env looks
// up environment variables (os.Getenv, or a map's lookup in tests). The error it
// returns has already been printed to stderr; exitCode maps it to a status.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	if env == nil {
		env = func(string) string { return "" }
	}
	a := &app{env: env, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		a.printError(cmd, err)
	}
	return err
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "electronsctl",
		Short: "Operate and use a Distributed Electrons server over its HTTP API",
		Long: "electronsctl submits and follows requests and batches and operates the queues, providers\n" +
			"and models of a Distributed Electrons server, over its HTTP API.\n\n" +
			"The server is --url (env " + envURL + ", default " + defaultURL + ") and the API key\n" +
			"--key (env " + envKey + ").",
		SilenceErrors:     true,
		SilenceUsage:      true,
		Args:              cobra.ArbitraryArgs,
		RunE:              groupRun,
		PersistentPreRunE: a.setup,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	f := root.PersistentFlags()
	f.StringVar(&a.url, "url", defaultURL, "server base URL (env "+envURL+")")
	f.StringVar(&a.key, "key", "", "API key (env "+envKey+")")
	f.StringVarP(&a.output, "output", "o", "table", "output format: table or json")

	root.AddCommand(a.requestsCommand(), a.batchesCommand(), a.queuesCommand(), a.providersCommand(), a.modelsCommand(),
		a.webhooksCommand(), a.deliveriesCommand())
	return root
}

// setup resolves the global flags against the environment and builds the client.
func (a *app) setup(cmd *cobra.Command, _ []string) error {
	flags := cmd.Flags()
	if !flags.Changed("url") {
		if v := a.env(envURL); v != "" {
			a.url = v
		}
	}
	if !flags.Changed("key") {
		a.key = a.env(envKey)
	}
	switch a.output {
	case "table", "json":
	default:
		return usagef("invalid output format %q: want table or json", a.output)
	}
	a.client = client.New(a.url, a.key, client.WithUserAgent("electronsctl"))
	return nil
}

// groupRun runs a command that only groups others: without arguments it shows
// its help, with an unknown one it is a usage error.
func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return cmd.Help()
}

// group returns a command that holds subcommands.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: cobra.ArbitraryArgs, RunE: groupRun}
	c.AddCommand(subs...)
	return c
}

// exactArgs is cobra.ExactArgs whose failure is a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return &usageError{err}
		}
		return nil
	}
}

// printError writes err to stderr in the CLI's one error format.
func (a *app) printError(cmd *cobra.Command, err error) {
	var apiErr *client.APIError
	var u *usageError
	switch {
	case errors.As(err, &apiErr):
		fmt.Fprintf(a.stderr, "error: %s\n", apiErr.Error())
	case errors.As(err, &u):
		fmt.Fprintf(a.stderr, "error: %v\n", err)
		if cmd != nil {
			fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	default:
		fmt.Fprintf(a.stderr, "error: %v\n", err)
	}
}
