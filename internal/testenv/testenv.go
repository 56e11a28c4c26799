// Package testenv is the test harness: it gives each test a fresh database
// cloned from a migrated template, a namespace on the real NATS JetStream
// server, and a fresh bucket on the test S3 server (versitygw).
//
// The services are real and shared by every test binary; `make services`
// (scripts/services.sh) starts them. When one is missing, the test fails
// with the command that starts it rather than skipping.
package testenv

import (
	"crypto/rand"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// randomName returns n random characters from [a-z2-7], which is valid in
// database identifiers, bucket names and NATS stream names alike.
func randomName(n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(strings.ToLower(rand.Text()))
	}
	return b.String()[:n]
}

// getenv returns the environment variable key, or def when it is empty.
func getenv(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// redact hides a password in a URL so that it can appear in a failure message.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// moduleRoot walks up from the working directory (a package directory under
// `go test`) to the directory that holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
