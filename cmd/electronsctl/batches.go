package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
)

func (a *app) batchesCommand() *cobra.Command {
	return group("batches", "Submit and follow batches of requests",
		a.batchesSubmitCommand(),
		a.batchGetCommand(),
		a.batchResultsCommand(),
		a.batchCancelCommand(),
	)
}

func (a *app) batchesSubmitCommand() *cobra.Command {
	var (
		wait     bool
		interval time.Duration
	)
	cmd := &cobra.Command{
		Use:   "submit FILE",
		Short: "Submit a batch from a JSON or JSONL file",
		Long: "submit sends FILE as a batch. A .json file holds {\"requests\": [<request body>…],\n" +
			"\"callback_url\", \"metadata\"}; a .jsonl or .ndjson file holds one line per request,\n" +
			"{\"custom_id\", \"body\": <request body>} or an OpenAI Batch API line. Other names are told\n" +
			"apart by their content.",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if interval <= 0 {
				return usagef("invalid --interval %s: want a positive duration", interval)
			}
			ctx := cmd.Context()
			b, err := a.submitBatchFile(ctx, args[0])
			if err != nil {
				return err
			}
			if wait {
				if b, err = a.waitBatch(ctx, b, interval); err != nil {
					return err
				}
			}
			return a.show(b, func(w io.Writer) error { return renderBatch(w, b) })
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the batch completes, showing a progress bar on stderr")
	cmd.Flags().DurationVar(&interval, "interval", time.Second, "how often --wait polls the batch")
	return cmd
}

// submitBatchFile sends the batch file at path in the format it holds.
func (a *app) submitBatchFile(ctx context.Context, path string) (*electrons.Batch, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		// Streamed: a JSONL batch may hold tens of thousands of lines.
		return a.client.SubmitBatchJSONL(ctx, f)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	jsonl, err := isJSONL(path, data)
	if err != nil {
		return nil, err
	}
	if jsonl {
		return a.client.SubmitBatchJSONL(ctx, bytes.NewReader(data))
	}
	body, err := decodeBatch(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a.client.SubmitBatch(ctx, body)
}

// isJSONL tells a JSONL batch file from a JSON one: by its extension, else by
// its content (several JSON values, or one object without "requests", is JSONL).
func isJSONL(path string, data []byte) (bool, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		return true, nil
	case ".json":
		return false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var first map[string]json.RawMessage
	if err := dec.Decode(&first); err != nil {
		return false, fmt.Errorf("%s: neither a JSON batch nor JSONL: %w", path, err)
	}
	if dec.More() {
		return true, nil
	}
	_, hasRequests := first["requests"]
	return !hasRequests, nil
}

// decodeBatch decodes a JSON batch, refusing unknown fields as the server does.
func decodeBatch(data []byte) (client.CreateBatch, error) {
	var b client.CreateBatch
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return b, fmt.Errorf("invalid JSON batch: %w", err)
	}
	if dec.More() {
		return b, fmt.Errorf("invalid JSON batch: more than one JSON value")
	}
	return b, nil
}

// waitBatch polls b until it is no longer in progress, drawing a progress bar
// of its finished requests on stderr.
func (a *app) waitBatch(ctx context.Context, b *electrons.Batch, interval time.Duration) (*electrons.Batch, error) {
	bar := progressbar.NewOptions(b.Counts.Total,
		progressbar.OptionSetWriter(a.stderr),
		progressbar.OptionSetDescription(b.ID),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(a.stderr) }),
	)
	for {
		c := b.Counts
		if c.Total != bar.GetMax() {
			bar.ChangeMax(c.Total)
		}
		_ = bar.Set(c.Succeeded + c.Failed + c.Cancelled)
		if b.Status != electrons.BatchInProgress {
			_ = bar.Finish()
			return b, nil
		}
		select {
		case <-ctx.Done():
			_ = bar.Exit()
			return nil, ctx.Err()
		case <-time.After(interval):
		}
		next, err := a.client.GetBatch(ctx, b.ID)
		if err != nil {
			_ = bar.Exit()
			return nil, err
		}
		b = next
	}
}

func (a *app) batchGetCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a batch and its counts",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.client.GetBatch(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.show(b, func(w io.Writer) error { return renderBatch(w, b) })
		},
	}
}

func (a *app) batchCancelCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel the unfinished requests of a batch",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.client.CancelBatch(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.show(b, func(w io.Writer) error { return renderBatch(w, b) })
		},
	}
}

func (a *app) batchResultsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "results ID",
		Short: "Write a batch's results (JSONL, one line per item) to stdout",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rc, err := a.client.BatchResults(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer rc.Close()
			if _, err := io.Copy(a.stdout, rc); err != nil {
				return fmt.Errorf("batch results %s: %w", args[0], err)
			}
			return nil
		},
	}
}
