package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
)

func (a *app) requestsCommand() *cobra.Command {
	return group("requests", "Submit, inspect and act on requests",
		a.requestsSubmitCommand(),
		a.requestGetCommand(),
		a.requestsListCommand(),
		a.requestActionCommand("cancel", "Cancel a request that has not finished", a.cancelRequest),
		a.requestActionCommand("retry", "Run a failed or cancelled request again", a.retryRequest),
		a.requestActionCommand("approve", "Accept the result of a request in review", a.approveRequest),
		a.requestActionCommand("reject", "Reject the result of a request in review", a.rejectRequest),
		a.requestsWatchCommand(),
	)
}

// The client's request actions, as method values bound when the command runs
// (the client is built in setup, after the commands).
func (a *app) cancelRequest(ctx context.Context, id string) (*electrons.Request, error) {
	return a.client.CancelRequest(ctx, id)
}

func (a *app) retryRequest(ctx context.Context, id string) (*electrons.Request, error) {
	return a.client.RetryRequest(ctx, id)
}

func (a *app) approveRequest(ctx context.Context, id string) (*electrons.Request, error) {
	return a.client.ApproveRequest(ctx, id)
}

func (a *app) rejectRequest(ctx context.Context, id string) (*electrons.Request, error) {
	return a.client.RejectRequest(ctx, id)
}

func (a *app) requestsSubmitCommand() *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "submit",
		Short: "Submit a request",
		Example: `  electronsctl requests submit --prompt "Write a haiku about queues" --wait
  electronsctl requests submit --task-type image --prompt "a red fox" --size 512x512
  electronsctl requests submit --model local-text --prompt hi --option latency_ms=50 --option fail=timeout
  electronsctl requests submit --input '{"query": "mountains", "options": {"per_page": 3}}' --task-type stock_media`,
		Args: exactArgs(0),
	}
	f := addSubmitFlags(cmd.Flags())
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the request live (text deltas as they stream) until it finishes, then show it; exit status 1 if it failed or was cancelled")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		body, ignored, err := f.request(cmd.Flags())
		if err != nil {
			return err
		}
		if len(ignored) > 0 {
			fmt.Fprintln(a.stderr, describeIgnored(ignored))
		}
		ctx := cmd.Context()
		r, replayed, err := a.client.SubmitRequest(ctx, body)
		if err != nil {
			return err
		}
		if replayed {
			fmt.Fprintf(a.stderr, "idempotency key seen before: this is the original request %s\n", r.ID)
		}
		if !wait {
			return a.show(r, func(w io.Writer) error { return renderRequest(w, r, false) })
		}
		return a.waitRequest(ctx, r)
	}
	return cmd
}

// waitRequest follows r until it finishes (or is in review), streams text
// deltas, shows the final request, and fails if the request did.
func (a *app) waitRequest(ctx context.Context, r *electrons.Request) error {
	// Deltas go to stdout in table mode; with -o json stdout holds only the final
	// request, so they go to stderr.
	deltaOut := a.stdout
	if a.output == "json" {
		deltaOut = a.stderr
	}
	streamed := false
	for !waitDone(r.Status) {
		inLine := false
		err := a.client.WatchRequest(ctx, r.ID, func(e client.Event) error {
			switch e.Type {
			case client.EventDelta:
				if t := deltaText(e.Data); t != "" {
					fmt.Fprint(deltaOut, t)
					streamed, inLine = true, true
				}
			case client.EventStatus:
				if inLine && deltaOut == a.stderr {
					fmt.Fprintln(a.stderr)
					inLine = false
				}
				fmt.Fprintf(a.stderr, "status: %s\n", eventStatus(e.Data))
			}
			return nil
		})
		if err != nil {
			return err
		}
		if inLine {
			fmt.Fprintln(deltaOut)
		}
		r, err = a.client.GetRequest(ctx, r.ID)
		if err != nil {
			return err
		}
		if waitDone(r.Status) {
			break
		}
		// The stream ended before the request did (a restarting server, a proxy's
		// timeout): follow it again shortly.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	if err := a.show(r, func(w io.Writer) error { return renderRequest(w, r, streamed) }); err != nil {
		return err
	}
	return requestOutcome(r)
}

// waitDone reports whether --wait stops at status s: a final status, or review,
// which waits for an operator.
func waitDone(s electrons.Status) bool {
	return s.Terminal() || s == electrons.StatusReview
}

// requestOutcome is the error of a request that failed or was cancelled.
func requestOutcome(r *electrons.Request) error {
	switch r.Status {
	case electrons.StatusFailed, electrons.StatusCancelled:
		if r.Error != nil {
			return fmt.Errorf("request %s %s: %s: %s", r.ID, r.Status, r.Error.Code, r.Error.Message)
		}
		return fmt.Errorf("request %s %s", r.ID, r.Status)
	}
	return nil
}

// deltaText is the text of a delta event ({"text": "…"}).
func deltaText(data json.RawMessage) string {
	var d struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(data, &d) != nil {
		return ""
	}
	return d.Text
}

// eventStatus is the status a status event carries (its data's "status" member,
// whether the data is {"status": …} or the whole request), or its raw data.
func eventStatus(data json.RawMessage) string {
	var d struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(data, &d) == nil && d.Status != "" {
		return d.Status
	}
	return string(data)
}

// eventError is the message of an error event, whose data is a problem+json
// document ({"title", "detail", "code"}), or its raw data.
func eventError(data json.RawMessage) string {
	var p struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Code   string `json:"code"`
	}
	if json.Unmarshal(data, &p) != nil || (p.Title == "" && p.Detail == "" && p.Code == "") {
		return string(data)
	}
	return (&client.APIError{Title: p.Title, Detail: p.Detail, Code: electrons.Code(p.Code)}).Error()
}

func (a *app) requestGetCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a request with its result or error",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := a.client.GetRequest(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.show(r, func(w io.Writer) error { return renderRequest(w, r, false) })
		},
	}
}

func (a *app) requestActionCommand(name, short string, do func(context.Context, string) (*electrons.Request, error)) *cobra.Command {
	return &cobra.Command{
		Use:   name + " ID",
		Short: short,
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := do(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.show(r, func(w io.Writer) error { return renderRequest(w, r, false) })
		},
	}
}

func (a *app) requestsListCommand() *cobra.Command {
	var (
		p   client.ListRequestsParams
		all bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List requests",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if p.Status != "" && !electrons.Status(p.Status).Valid() {
				return usagef("invalid --status %q", p.Status)
			}
			page, err := a.client.ListRequests(cmd.Context(), p)
			if err != nil {
				return err
			}
			for all && page.NextCursor != "" {
				q := p
				q.Cursor = page.NextCursor
				next, err := a.client.ListRequests(cmd.Context(), q)
				if err != nil {
					return err
				}
				page.Data = append(page.Data, next.Data...)
				page.NextCursor = next.NextCursor
			}
			if page.Data == nil {
				page.Data = []electrons.Request{}
			}
			if err := a.show(page, func(w io.Writer) error { return renderRequests(w, page.Data) }); err != nil {
				return err
			}
			if a.output == "table" && page.NextCursor != "" {
				fmt.Fprintf(a.stderr, "more: --cursor %s (or --all)\n", page.NextCursor)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&p.Status, "status", "", "only requests in this status")
	fs.StringVar(&p.TaskType, "task-type", "", "only requests of this task type")
	fs.StringVar(&p.Provider, "provider", "", "only requests served by this provider")
	fs.StringVar(&p.BatchID, "batch", "", "only requests of this batch")
	fs.IntVar(&p.Limit, "limit", 0, "page size (default: the server's)")
	fs.StringVar(&p.Cursor, "cursor", "", "start at this cursor (a previous page's next_cursor)")
	fs.BoolVar(&all, "all", false, "follow the cursors and list every page")
	return cmd
}

func (a *app) requestsWatchCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "watch ID",
		Short: "Follow a request's live events until it finishes",
		Long: "watch prints a request's live events: text deltas as they stream, status changes, and the\n" +
			"final done or error. With -o json each event is one JSON line {\"type\", \"data\"}.\n" +
			"The exit status is 1 when the stream ends with an error event.",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var failed string
			inLine := false
			endLine := func() {
				if inLine {
					fmt.Fprintln(a.stdout)
					inLine = false
				}
			}
			err := a.client.WatchRequest(cmd.Context(), args[0], func(e client.Event) error {
				if e.Type == client.EventError {
					failed = eventError(e.Data)
				}
				if a.output == "json" {
					return writeEventLine(a.stdout, e)
				}
				switch e.Type {
				case client.EventDelta:
					if t := deltaText(e.Data); t != "" {
						fmt.Fprint(a.stdout, t)
						inLine = true
					}
				case client.EventStatus:
					endLine()
					fmt.Fprintf(a.stdout, "status: %s\n", eventStatus(e.Data))
				case client.EventDone:
					endLine()
					fmt.Fprintln(a.stdout, "done")
				case client.EventError:
					endLine()
					fmt.Fprintf(a.stdout, "error: %s\n", failed)
				default:
					endLine()
					fmt.Fprintf(a.stdout, "%s: %s\n", e.Type, e.Data)
				}
				return nil
			})
			endLine()
			if err != nil {
				return err
			}
			if failed != "" {
				return fmt.Errorf("request %s: %s", args[0], failed)
			}
			return nil
		},
	}
}

// writeEventLine writes e as one compact JSON line; data that is not JSON is
// written as a string.
func writeEventLine(w io.Writer, e client.Event) error {
	data := e.Data
	if len(data) > 0 && !json.Valid(data) {
		b, err := json.Marshal(string(data))
		if err != nil {
			return err
		}
		data = b
	}
	b, err := json.Marshal(client.Event{Type: e.Type, Data: data})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
