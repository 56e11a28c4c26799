package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
)

// runCLI runs the CLI in-process with env as its environment.
func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"bogus"}, `unknown command "bogus" for "electronsctl"`},
		{[]string{"requests", "bogus"}, `unknown command "bogus" for "electronsctl requests"`},
		{[]string{"requests", "get"}, "accepts 1 arg(s), received 0"},
		{[]string{"requests", "cancel", "a", "b"}, "accepts 1 arg(s), received 2"},
		{[]string{"requests", "list", "--nope"}, "unknown flag: --nope"},
		{[]string{"requests", "list", "--limit", "many"}, `invalid argument "many"`},
		{[]string{"requests", "list", "--status", "done"}, `invalid --status "done"`},
		{[]string{"-o", "yaml", "queues", "list"}, `invalid output format "yaml"`},
		{[]string{"requests", "submit", "--task-type", "poem"}, `invalid --task-type "poem"`},
		{[]string{"requests", "submit", "--option", "x"}, `invalid --option "x"`},
		{[]string{"batches", "submit"}, "accepts 1 arg(s), received 0"},
		{[]string{"batches", "submit", "f.json", "--interval", "0s"}, "invalid --interval"},
		{[]string{"queues", "pause"}, "accepts 1 arg(s), received 0"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			// An unroutable URL: no usage error may reach the network.
			_, stderr, err := runCLI(t, map[string]string{envURL: "http://127.0.0.1:1"}, tt.args...)
			if exitCode(err) != 2 {
				t.Fatalf("exit %d (error %v), want 2", exitCode(err), err)
			}
			if !strings.Contains(stderr, "error: "+tt.wantErr) || !strings.Contains(stderr, "--help' for usage.") {
				t.Errorf("stderr %q does not report %q", stderr, tt.wantErr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"--help"}, {"requests"}, {"requests", "submit", "--help"}, {"batches", "--help"}} {
		stdout, _, err := runCLI(t, nil, args...)
		if err != nil || !strings.Contains(stdout, "Usage:") {
			t.Errorf("%q: error %v, stdout %q", args, err, stdout)
		}
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	apiErr := &client.APIError{Status: 404, Code: electrons.CodeNotFound, Title: "Not found", Detail: "no request req_x"}
	for err, want := range map[error]int{
		nil:                           0,
		errors.New("x"):               1,
		apiErr:                        1,
		usagef("bad"):                 2,
		context.Canceled:              1,
		&usageError{errors.New("wr")}: 2,
	} {
		if got := exitCode(err); got != want {
			t.Errorf("exitCode(%v) = %d, want %d", err, got, want)
		}
	}
}

func TestPrintAPIError(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	a := &app{stderr: &stderr}
	a.printError(nil, &client.APIError{Status: 404, Code: electrons.CodeNotFound, Title: "Not found", Detail: "no request req_x"})
	if want := "error: Not found: no request req_x (not_found)\n"; stderr.String() != want {
		t.Errorf("got %q, want %q", stderr.String(), want)
	}
}

// The environment chooses the server and key unless the flags do.
func TestGlobalFlagsFromEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{envURL: "http://127.0.0.1:1/from-env", envKey: "k_env"}
	_, stderr, err := runCLI(t, env, "queues", "list")
	if err == nil || !strings.Contains(stderr, "http://127.0.0.1:1/from-env/v1/queues") {
		t.Errorf("error %v, stderr %q: want a connection error to the env URL", err, stderr)
	}
	_, stderr, err = runCLI(t, env, "--url", "http://127.0.0.1:1/from-flag", "queues", "list")
	if err == nil || !strings.Contains(stderr, "http://127.0.0.1:1/from-flag/v1/queues") {
		t.Errorf("error %v, stderr %q: want a connection error to the flag URL", err, stderr)
	}
	if exitCode(err) != 1 {
		t.Errorf("exit %d, want 1", exitCode(err))
	}
}
