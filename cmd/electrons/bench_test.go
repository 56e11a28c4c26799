package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons/internal/testenv"
)

// The benchmarks start the real server in this process, as the end-to-end tests do, on a platform
// of their own (a database, a NATS namespace, a bucket) per run. Run them with -benchtime 1x: one
// iteration is one load run, and -count repeats give the spread (see docs/BENCHMARKS.md).

// benchClients is how many clients submit at once.
const benchClients = 64

// benchServer starts `electrons serve` on a fresh platform, as platform.start does for tests,
// and returns its URL and the platform's database.
func benchServer(b *testing.B, over map[string]string) (string, *testenv.DBEnv) {
	b.Helper()
	db, ns, s3 := testenv.DB(b), testenv.NATS(b), testenv.S3(b)
	env := map[string]string{
		"ELECTRONS_DATABASE_URL":          db.URL,
		"ELECTRONS_NATS_URL":              ns.URL,
		"ELECTRONS_NATS_NAMESPACE":        ns.Namespace,
		"ELECTRONS_S3_ENDPOINT":           s3.Endpoint,
		"ELECTRONS_S3_ACCESS_KEY":         s3.AccessKey,
		"ELECTRONS_S3_SECRET_KEY":         s3.SecretKey,
		"ELECTRONS_S3_BUCKET":             s3.Bucket,
		"ELECTRONS_S3_REGION":             s3.Region,
		"ELECTRONS_HTTP_ADDR":             "127.0.0.1:0",
		"ELECTRONS_DATA_DIR":              b.TempDir(),
		"ELECTRONS_BOOTSTRAP_KEY":         adminKey,
		"ELECTRONS_WEBHOOK_ALLOW_PRIVATE": "true",
		"ELECTRONS_LOG_LEVEL":             "warn",
	}
	for k, v := range over {
		env[k] = v
	}
	logs := &benchLog{}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"serve"}, func(k string) string { return env[k] }, pw, logs)
		pw.CloseWithError(fmt.Errorf("server exited: %v", err))
		done <- err
	}()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
		close(urlc)
	}()
	var url string
	select {
	case u, ok := <-urlc:
		if !ok {
			cancel()
			b.Fatalf("server did not start: %v\n%s", <-done, logs)
		}
		url = u
	case <-time.After(60 * time.Second):
		cancel()
		b.Fatal("server did not start within 60s")
	}
	b.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
		}
		if logs.n > 0 {
			b.Logf("server logged %d lines at warn or above; the first:\n%s", logs.n, logs)
		}
	})
	return url, db
}

// benchLog keeps the first lines the server logs (warn and above) and counts the rest: printing
// them as they come would interleave with the benchmark output.
type benchLog struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (l *benchLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		l.n++
		if len(l.first) < 10 {
			l.first = append(l.first, line)
		}
	}
	return len(p), nil
}

func (l *benchLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.first, "\n")
}

// submitter posts requests with plain net/http over one shared keep-alive transport.
type submitter struct {
	hc  *http.Client
	url string
}

func newSubmitter(baseURL string) *submitter {
	tr := &http.Transport{MaxIdleConns: benchClients, MaxIdleConnsPerHost: benchClients, IdleConnTimeout: time.Minute}
	return &submitter{hc: &http.Client{Transport: tr, Timeout: time.Minute}, url: baseURL + "/v1/requests"}
}

// submit posts one request body and returns the request's id; anything but 202 is an error.
func (s *submitter) submit(body []byte) (string, error) {
	req, err := http.NewRequest(http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("POST /v1/requests: %s: %s", resp.Status, data)
	}
	var r struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &r); err != nil || r.ID == "" {
		return "", fmt.Errorf("POST /v1/requests: no id in %s", data)
	}
	return r.ID, nil
}

// submitAll submits n requests from benchClients goroutines, as fast as they are accepted or,
// when rate > 0, at most rate a second; body(i) is the i-th body and sent(i, id, at) is told of
// each accepted request and when it was sent.
func (s *submitter) submitAll(b *testing.B, n int, rate float64, body func(i int) []byte, sent func(i int, id string, at time.Time)) {
	b.Helper()
	var tick <-chan time.Time
	if rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer t.Stop()
		tick = t.C
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, benchClients)
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if tick != nil {
					<-tick
				}
				at := time.Now()
				id, err := s.submit(body(i))
				if err != nil {
					errc <- err
					return
				}
				if sent != nil {
					sent(i, id, at)
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		b.Fatal(err)
	}
}

// textBody is a small text request.
func textBody(i int, callback string) []byte {
	return benchBody(map[string]any{"task_type": "text",
		"input": map[string]any{"prompt": fmt.Sprintf("Tell a short story about lighthouse %d.", i), "max_tokens": 24}}, callback)
}

// mixedBody cycles through text, image and audio, as submitMixed does.
func mixedBody(i int, callback string) []byte {
	switch i % 3 {
	case 1:
		return benchBody(map[string]any{"task_type": "image",
			"input": map[string]any{"prompt": fmt.Sprintf("a lighthouse number %d", i), "size": "64x48"}}, callback)
	case 2:
		return benchBody(map[string]any{"task_type": "audio",
			"input": map[string]any{"prompt": fmt.Sprintf("Lighthouse %d speaking.", i)}}, callback)
	}
	return textBody(i, callback)
}

func benchBody(m map[string]any, callback string) []byte {
	if callback != "" {
		m["callback_url"] = callback
	}
	data, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return data
}

// BenchmarkSubmit measures how many requests per second POST /v1/requests accepts (202) from 64
// concurrent clients. With roles=all the router, workers and delivery run in the same process, as
// in `electrons serve`, and share its CPU; roles=api is intake alone.
func BenchmarkSubmit(b *testing.B) {
	for _, bc := range []struct{ name, roles string }{{"roles=all", ""}, {"roles=api", "api"}} {
		b.Run(bc.name, func(b *testing.B) {
			over := map[string]string{}
			if bc.roles != "" {
				over["ELECTRONS_ROLES"] = bc.roles
			}
			url, _ := benchServer(b, over)
			s := newSubmitter(url)
			bodies := make([][]byte, 64)
			for i := range bodies {
				bodies[i] = textBody(i, "")
			}
			n := b.N * 5000
			b.ResetTimer()
			start := time.Now()
			s.submitAll(b, n, 0, func(i int) []byte { return bodies[i%len(bodies)] }, nil)
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(n)/elapsed.Seconds(), "req/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkEndToEnd measures requests per second completed end to end (submitted, routed,
// generated by the local provider at zero latency, recorded as succeeded) from the first submission
// to the last success, counted in the database. webhook adds a callback_url to each request and
// reports the submit→webhook latency distribution (from sending the POST to the webhook's arrival
// at the receiver) and the rate at which webhooks arrived: mixed_webhook under a burst that
// saturates the server (the latency is mostly queueing), mixed_webhook_paced at 50 requests a
// second, well under capacity.
func BenchmarkEndToEnd(b *testing.B) {
	b.Run("text", func(b *testing.B) { benchEndToEnd(b, 2000, 0, textBody, false) })
	b.Run("mixed", func(b *testing.B) { benchEndToEnd(b, 600, 0, mixedBody, false) })
	b.Run("mixed_webhook", func(b *testing.B) { benchEndToEnd(b, 600, 0, mixedBody, true) })
	b.Run("mixed_webhook_paced", func(b *testing.B) { benchEndToEnd(b, 300, 50, mixedBody, true) })
}

// benchEndToEnd submits perOp requests per iteration (at most rate a second when rate > 0) and
// waits until all have succeeded and, with webhooks, until every webhook has arrived.
func benchEndToEnd(b *testing.B, perOp int, rate float64, body func(i int, callback string) []byte, webhooks bool) {
	url, db := benchServer(b, nil)
	s := newSubmitter(url)
	n := b.N * perOp

	var rcv *benchReceiver
	callback := ""
	if webhooks {
		rcv = newBenchReceiver(b)
		callback = rcv.srv.URL + "/hooks"
	}
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = body(i, callback)
	}
	var mu sync.Mutex
	sentAt := make(map[string]time.Time, n)

	b.ResetTimer()
	start := time.Now()
	s.submitAll(b, n, rate, func(i int) []byte { return bodies[i] }, func(_ int, id string, at time.Time) {
		mu.Lock()
		sentAt[id] = at
		mu.Unlock()
	})
	submitted := time.Since(start)

	ctx := context.Background()
	deadline := time.Now().Add(100 * time.Second)
	for {
		var ok, failed int
		err := db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'succeeded'),
			count(*) FILTER (WHERE status IN ('failed', 'cancelled', 'review')) FROM requests`).Scan(&ok, &failed)
		if err != nil {
			b.Fatal(err)
		}
		if failed > 0 {
			b.Fatalf("%d requests did not succeed", failed)
		}
		if ok >= n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("after %s, %d of %d requests succeeded", time.Since(start).Round(time.Millisecond), ok, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	completed := time.Since(start)
	if webhooks {
		rcv.wait(b, n, deadline)
	}
	b.StopTimer()

	b.ReportMetric(float64(n)/completed.Seconds(), "req/s")
	b.ReportMetric(float64(n)/submitted.Seconds(), "submit_req/s")
	b.ReportMetric(0, "ns/op")
	if !webhooks {
		return
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	lat := make([]float64, 0, n)
	var last time.Time
	for id, at := range rcv.got {
		t0, ok := sentAt[id]
		if !ok {
			b.Fatalf("webhook for unknown request %s", id)
		}
		lat = append(lat, float64(at.Sub(t0))/float64(time.Millisecond))
		if at.After(last) {
			last = at
		}
	}
	slices.Sort(lat)
	b.ReportMetric(percentile(lat, 50), "p50_ms")
	b.ReportMetric(percentile(lat, 99), "p99_ms")
	b.ReportMetric(float64(n)/last.Sub(start).Seconds(), "webhook_req/s")
}

// percentile is the nearest-rank p-th percentile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(k, 0)]
}

// benchReceiver records when the first successful webhook for each request arrived.
type benchReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    map[string]time.Time
	others int
}

func newBenchReceiver(b *testing.B) *benchReceiver {
	r := &benchReceiver{got: map[string]time.Time{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		at := time.Now()
		var h struct {
			Type string `json:"type"`
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if err := json.NewDecoder(req.Body).Decode(&h); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		if _, seen := r.got[h.Data.ID]; !seen && h.Type == "request.succeeded" {
			r.got[h.Data.ID] = at
		} else {
			r.others++
		}
		r.mu.Unlock()
	}))
	b.Cleanup(r.srv.Close)
	return r
}

func (r *benchReceiver) wait(b *testing.B, n int, deadline time.Time) {
	b.Helper()
	for {
		r.mu.Lock()
		got, others := len(r.got), r.others
		r.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d webhooks arrived (%d others)", got, n, others)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
