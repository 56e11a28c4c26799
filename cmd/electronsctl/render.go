package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
)

// show writes v as indented JSON with -o json, or through table otherwise.
func (a *app) show(v any, table func(io.Writer) error) error {
	if a.output == "json" {
		return writeJSON(a.stdout, v)
	}
	return table(a.stdout)
}

// writeJSON writes v as JSON indented by two spaces, with a final newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// row writes one tab-separated line, an empty cell becoming "-".
func row(w io.Writer, cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
	}
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// renderRequests writes requests as a table.
func renderRequests(w io.Writer, reqs []electrons.Request) error {
	tw := newTable(w)
	row(tw, "ID", "STATUS", "TASK", "MODEL", "PROVIDER", "ATTEMPTS", "CREATED")
	for _, r := range reqs {
		row(tw, r.ID, string(r.Status), string(r.TaskType), r.Model, r.Provider, strconv.Itoa(r.Attempts), formatTime(r.CreatedAt))
	}
	return tw.Flush()
}

// renderRequest writes one request: its table row, then what it produced or why
// it failed. With omitText the result text is left out (it was streamed already).
func renderRequest(w io.Writer, r *electrons.Request, omitText bool) error {
	if err := renderRequests(w, []electrons.Request{*r}); err != nil {
		return err
	}
	var details []string
	add := func(k, v string) {
		if v != "" {
			details = append(details, k+":\t"+v)
		}
	}
	if r.BatchID != nil {
		add("batch", *r.BatchID)
	}
	add("priority", strconv.Itoa(r.Priority))
	add("updated", formatTime(r.UpdatedAt))
	if r.CompletedAt != nil {
		add("completed", formatTime(*r.CompletedAt))
	}
	if r.Error != nil {
		add("error", fmt.Sprintf("%s: %s", r.Error.Code, r.Error.Message))
	}
	res := r.Result
	if res != nil {
		if q := res.Quality; q != nil {
			v := fmt.Sprintf("%s %.2f", q.Verdict, q.Score)
			if len(q.Reasons) > 0 {
				v += " (" + strings.Join(q.Reasons, "; ") + ")"
			}
			add("quality", v)
		}
		if u := res.Usage; u != nil {
			add("usage", fmt.Sprintf("%d in, %d out", u.InputTokens, u.OutputTokens))
		}
	}
	fmt.Fprintln(w)
	tw := newTable(w)
	for _, d := range details {
		fmt.Fprintln(tw, d)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if res == nil {
		return nil
	}
	if len(res.Artifacts) > 0 {
		fmt.Fprintln(w)
		tw := newTable(w)
		row(tw, "ARTIFACT", "TYPE", "SIZE", "SHA256", "URL")
		for _, a := range res.Artifacts {
			row(tw, a.ID, a.ContentType, strconv.FormatInt(a.SizeBytes, 10), a.SHA256, a.URL)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(res.Items) > 0 {
		fmt.Fprintln(w)
		tw := newTable(w)
		row(tw, "ITEM", "KIND", "TITLE", "AUTHOR", "URL")
		for _, it := range res.Items {
			row(tw, it.ID, it.Kind, it.Title, it.Author, it.URL)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if res.Text != "" && !omitText {
		fmt.Fprintf(w, "\n%s", res.Text)
		if !strings.HasSuffix(res.Text, "\n") {
			fmt.Fprintln(w)
		}
	}
	return nil
}

// renderBatch writes a batch and its counts as a table.
func renderBatch(w io.Writer, b *electrons.Batch) error {
	tw := newTable(w)
	row(tw, "ID", "STATUS", "TOTAL", "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "CREATED")
	c := b.Counts
	row(tw, b.ID, b.Status, strconv.Itoa(c.Total), strconv.Itoa(c.Queued), strconv.Itoa(c.Running),
		strconv.Itoa(c.Succeeded), strconv.Itoa(c.Failed), strconv.Itoa(c.Cancelled), formatTime(b.CreatedAt))
	return tw.Flush()
}

// renderQueues writes the provider queues as a table.
func renderQueues(w io.Writer, qs []client.Queue) error {
	tw := newTable(w)
	row(tw, "NAME", "PAUSED", "QUEUED", "SCHEDULED", "RUNNING", "RETRYING", "DEAD", "OLDEST", "THROUGHPUT", "LIMITER")
	for _, q := range qs {
		row(tw, q.Name, strconv.FormatBool(q.Paused), strconv.Itoa(q.Queued), strconv.Itoa(q.Scheduled),
			strconv.Itoa(q.Running), strconv.Itoa(q.Retrying), strconv.Itoa(q.Dead), formatAge(q.OldestAgeSeconds),
			strconv.FormatFloat(q.ThroughputPerMin, 'f', 1, 64)+"/min", formatValue(q.Limiter))
	}
	return tw.Flush()
}

// formatAge writes an age in seconds as a rounded duration ("" for none).
func formatAge(seconds float64) string {
	if seconds <= 0 || math.IsNaN(seconds) {
		return ""
	}
	d := time.Duration(seconds * float64(time.Second))
	if d < time.Second {
		return "<1s"
	}
	return d.Round(time.Second).String()
}

// renderProviders writes the providers' state as a table. The server owns the
// shape of a provider; the well-known members get columns.
func renderProviders(w io.Writer, ps []map[string]any) error {
	tw := newTable(w)
	row(tw, "NAME", "ENABLED", "TASKS", "LIMITS", "REMAINING", "CIRCUIT", "COOLDOWN_UNTIL", "REASON")
	for _, p := range ps {
		row(tw, formatValue(p["name"]), formatValue(p["enabled"]), formatValue(p["task_types"]), formatValue(p["limits"]),
			formatValue(p["remaining"]), formatValue(p["circuit"]), formatValue(p["cooldown_until"]), formatValue(p["disabled_reason"]))
	}
	return tw.Flush()
}

// renderModels writes the models as a table.
func renderModels(w io.Writer, ms []electrons.Model) error {
	tw := newTable(w)
	row(tw, "ID", "PROVIDER", "PROVIDER_MODEL", "TASK", "ENABLED", "DEFAULTS")
	for _, m := range ms {
		row(tw, m.ID, m.Provider, m.ProviderModel, string(m.TaskType), strconv.FormatBool(m.Enabled), formatValue(m.Defaults))
	}
	return tw.Flush()
}

// formatValue writes a decoded JSON value compactly for a table cell: maps as
// sorted k=v pairs (null members left out), lists comma-separated, null as "".
func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k, e := range v {
			if e != nil {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			s := formatValue(v[k])
			if _, nested := v[k].(map[string]any); nested {
				s = "{" + s + "}"
			}
			parts = append(parts, k+"="+s)
		}
		return strings.Join(parts, ",")
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = formatValue(e)
		}
		return strings.Join(parts, ",")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
