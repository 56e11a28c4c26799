package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons/api/client"
)

// TestCtlWebhooksAndDeliveries: create, list and delete a subscription; list deliveries and
// replay one.
func TestCtlWebhooksAndDeliveries(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	var got atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { got.Add(1) }))
	t.Cleanup(rcv.Close)

	out := s.ok(t, e2eAdminKey, "-o", "json", "webhooks", "create", rcv.URL, "--event-types", "request.succeeded")
	var wh client.Webhook
	if err := json.Unmarshal([]byte(out.Stdout), &wh); err != nil || !strings.HasPrefix(wh.Secret, "whsec_") || len(wh.EventTypes) != 1 {
		t.Fatalf("create: %v %+v", err, wh)
	}
	if list := s.ok(t, e2eAdminKey, "webhooks", "list"); !strings.Contains(list.Stdout, wh.ID) || strings.Contains(list.Stdout, wh.Secret) {
		t.Fatalf("list:\n%s", list.Stdout)
	}
	if r := s.ctl(t, e2eAdminKey, "webhooks", "create", rcv.URL, "--event-types", "request.exploded"); r.Code() != 1 || !strings.Contains(r.Stderr, "invalid_request") {
		t.Fatalf("bad event type: exit %d, %s", r.Code(), r.Stderr)
	}

	sub := s.ok(t, e2eAdminKey, "-o", "json", "requests", "submit", "--prompt", "hello")
	var req struct{ ID string }
	_ = json.Unmarshal([]byte(sub.Stdout), &req)
	var ds []client.Delivery
	poll(t, 30*time.Second, "the delivery to succeed", func() bool {
		out := s.ok(t, e2eAdminKey, "-o", "json", "deliveries", "list", "--entity", req.ID)
		var page struct{ Data []client.Delivery }
		_ = json.Unmarshal([]byte(out.Stdout), &page)
		ds = page.Data
		return len(ds) == 1 && ds[0].Status == "succeeded"
	})
	if got.Load() != 1 {
		t.Fatalf("receiver got %d webhooks, want 1", got.Load())
	}
	rep := s.ok(t, e2eAdminKey, "deliveries", "replay", ds[0].ID)
	if !strings.Contains(rep.Stdout, "pending") {
		t.Fatalf("replay:\n%s", rep.Stdout)
	}
	poll(t, 30*time.Second, "the replayed webhook", func() bool { return got.Load() == 2 })

	s.ok(t, e2eAdminKey, "webhooks", "delete", wh.ID)
	if list := s.ok(t, e2eAdminKey, "webhooks", "list"); strings.Contains(list.Stdout, wh.ID) {
		t.Fatalf("deleted subscription listed:\n%s", list.Stdout)
	}
	if r := s.ctl(t, e2eAdminKey, "webhooks", "delete", wh.ID); r.Code() != 1 || !strings.Contains(r.Stderr, "not_found") {
		t.Fatalf("second delete: exit %d, %s", r.Code(), r.Stderr)
	}
}
