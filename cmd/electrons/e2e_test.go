package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
)

// submitMixed submits n requests cycling through text, image and audio, with a callback.
func submitMixed(t *testing.T, c *client.Client, n int, callback string, opts map[string]any) []string {
	t.Helper()
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			req := client.CreateRequest{CallbackURL: callback, Input: electrons.Input{Options: opts}}
			switch i % 3 {
			case 0:
				req.TaskType, req.Input.Prompt, req.Input.MaxTokens = electrons.TaskText, fmt.Sprintf("Tell a short story about lighthouse %d.", i), 24
			case 1:
				req.TaskType, req.Input.Prompt, req.Input.Size = electrons.TaskImage, fmt.Sprintf("a lighthouse number %d", i), "64x48"
			case 2:
				req.TaskType, req.Input.Prompt = electrons.TaskAudio, fmt.Sprintf("Lighthouse %d speaking.", i)
			}
			r, _, err := c.SubmitRequest(context.Background(), req)
			if err != nil {
				errs <- err
				return
			}
			ids[i] = r.ID
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("submit: %v", err)
	}
	return ids
}

func TestEndToEndMixedWebhooksAndArtifacts(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	srv := p.start(nil)
	c := apiClient(t, srv.URL, adminKey)
	ctx := context.Background()
	rcv := newInstanceReceiver(t, c)

	const n = 100
	ids := submitMixed(t, c, n, rcv.srv.URL+"/hooks", nil)
	waitFor(t, 3*time.Minute, "100 webhooks", func() bool { return rcv.count() >= n })
	rcv.mu.Lock()
	if len(rcv.bad) > 0 {
		t.Fatalf("%d webhooks failed verification: %v", len(rcv.bad), rcv.bad)
	}
	byReq := map[string]hook{}
	for _, h := range rcv.got {
		if h.Type != electrons.EventRequestSucceeded {
			t.Errorf("webhook %s: type %s, want request.succeeded", h.ID, h.Type)
		}
		byReq[h.Data.ID] = h
	}
	rcv.mu.Unlock()

	hc := &http.Client{Timeout: 30 * time.Second}
	for i, id := range ids {
		if _, ok := byReq[id]; !ok {
			t.Errorf("no webhook for %s", id)
		}
		r, err := c.GetRequest(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != electrons.StatusSucceeded || r.Result == nil {
			t.Fatalf("%s: status %s, error %+v", id, r.Status, r.Error)
		}
		if i%3 == 0 {
			if r.Result.Text == "" || len(r.Result.Artifacts) != 0 {
				t.Fatalf("%s: text result %+v", id, r.Result)
			}
			continue
		}
		if len(r.Result.Artifacts) != 1 {
			t.Fatalf("%s: %d artifacts", id, len(r.Result.Artifacts))
		}
		a := r.Result.Artifacts[0]
		resp, err := hc.Get(a.URL)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", a.URL, resp.Status)
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != a.SHA256 || int64(len(data)) != a.SizeBytes {
			t.Fatalf("%s: downloaded bytes do not match sha256/size", a.ID)
		}
		switch i % 3 {
		case 1:
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil || a.ContentType != "image/png" {
				t.Fatalf("%s: not a PNG (%s): %v", a.ID, a.ContentType, err)
			}
			if b := img.Bounds(); b.Dx() != 64 || b.Dy() != 48 {
				t.Fatalf("%s: PNG is %v, want 64x48", a.ID, b)
			}
		case 2:
			if err := checkWAV(data); err != nil || a.ContentType != "audio/wav" {
				t.Fatalf("%s: not a WAV (%s): %v", a.ID, a.ContentType, err)
			}
		}
	}
}

// checkWAV checks a RIFF/WAVE PCM file with a non-empty data chunk.
func checkWAV(b []byte) error {
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return errors.New("no RIFF/WAVE header")
	}
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:off+8]))
		if id == "data" {
			if size == 0 || off+8+size > len(b) {
				return fmt.Errorf("data chunk of %d bytes in a %d-byte file", size, len(b))
			}
			return nil
		}
		off += 8 + size + size%2
	}
	return errors.New("no data chunk")
}

func TestWebhookRetriedUntilSuccess(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	srv := p.start(nil)
	c := apiClient(t, srv.URL, adminKey)
	ctx := context.Background()
	rcv := newInstanceReceiver(t, c)
	rcv.answer = func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	r, _, err := c.SubmitRequest(ctx, client.CreateRequest{Input: electrons.Input{Prompt: "hello"}, CallbackURL: rcv.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the webhook", func() bool { return rcv.count() == 1 })
	rcv.mu.Lock()
	got := rcv.got[0]
	rcv.mu.Unlock()
	if got.Data.ID != r.ID {
		t.Fatalf("webhook for %s, want %s", got.Data.ID, r.ID)
	}
	var attempts, status int
	var dstatus string
	waitFor(t, 10*time.Second, "the delivery to be recorded", func() bool {
		err := p.db.Pool.QueryRow(ctx, `SELECT d.attempts, d.status, coalesce(d.last_status_code, 0) FROM webhook_deliveries d WHERE d.entity_id = $1`, r.ID).Scan(&attempts, &dstatus, &status)
		return err == nil && dstatus == "succeeded"
	})
	var recorded []int
	rows, err := p.db.Pool.Query(ctx, `SELECT coalesce(a.status_code, 0) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.entity_id = $1 ORDER BY a.attempt`, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var code int
		_ = rows.Scan(&code)
		recorded = append(recorded, code)
	}
	rows.Close()
	if attempts != 3 || fmt.Sprint(recorded) != "[500 500 200]" {
		t.Fatalf("attempts = %d, recorded %v; want 3 attempts: [500 500 200]", attempts, recorded)
	}
	// Every attempt carried the same webhook-id.
	if !strings.HasPrefix(got.ID, "msg_") {
		t.Fatalf("webhook-id %q", got.ID)
	}
}

func TestTwoServersShareTheStream(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	a := p.start(nil)
	b := p.start(nil)
	ca, cb := apiClient(t, a.URL, adminKey), apiClient(t, b.URL, adminKey)
	ctx := context.Background()
	const n = 120
	ids := append(submitMixed(t, ca, n/2, "", nil), submitMixed(t, cb, n/2, "", nil)...)
	waitFor(t, 3*time.Minute, "every request to finish", func() bool {
		var done int
		_ = p.db.Pool.QueryRow(ctx, `SELECT count(*) FROM requests WHERE status = 'succeeded'`).Scan(&done)
		return done == n
	})
	// Each request completed exactly once: one succeeded event, one finished River job.
	var dupEvents, jobs int
	if err := p.db.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT entity_id FROM events WHERE type = 'request.succeeded' GROUP BY entity_id HAVING count(*) > 1) x`).Scan(&dupEvents); err != nil {
		t.Fatal(err)
	}
	if err := p.db.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'generate'`).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if dupEvents != 0 || jobs != n {
		t.Fatalf("%d requests completed twice; %d generate jobs for %d requests", dupEvents, jobs, n)
	}
	for _, id := range ids {
		r, err := cb.GetRequest(ctx, id)
		if err != nil || r.Status != electrons.StatusSucceeded {
			t.Fatalf("%s: %v %v", id, r, err)
		}
	}
}
