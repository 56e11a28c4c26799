// Command fakeprovider serves providers/fake: one HTTP server that speaks the wire format of
// every provider the platform adapts, for demos, benchmarks and chaos runs. Point each
// *_BASE_URL of the server at it:
//
//	fakeprovider --addr 127.0.0.1:9090 [--config routes.json] [--keys k1,k2]
//
// The config file (and POST /_fake/config at run time) maps route-name prefixes to behaviour:
// {"openai.": {"latency_min_ms": 50, "latency_max_ms": 200, "faults": {"rate_limit": 0.1},
// "limit": {"requests": 60, "window_ms": 60000}}}. GET /_fake/stats shows what each route saw.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/distributed-electrons/electrons/providers/fake"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "fakeprovider:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fakeprovider", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9090", "listen address")
	config := fs.String("config", "", "JSON file of route behaviours")
	keys := fs.String("keys", "", "comma-separated API keys to accept (default: any)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv := fake.New()
	if *config != "" {
		b, err := os.ReadFile(*config)
		if err != nil {
			return fmt.Errorf("--config: %w", err)
		}
		var routes map[string]fake.RouteConfig
		if err := json.Unmarshal(b, &routes); err != nil {
			return fmt.Errorf("--config %s: %w", *config, err)
		}
		for prefix, cfg := range routes {
			srv.Configure(prefix, cfg)
		}
	}
	if *keys != "" {
		srv.SetKeys(strings.Split(*keys, ",")...)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", *addr, err)
	}
	srv.BaseURL = "http://" + ln.Addr().String()
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "fakeprovider listening on %s (%d routes)\n", srv.BaseURL, len(srv.RouteNames()))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return hs.Shutdown(sctx)
	case err := <-errc:
		return err
	}
}
