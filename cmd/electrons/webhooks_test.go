package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
	"github.com/distributed-electrons/electrons/internal/oracle"
)

// call sends a JSON request with the admin key, checks the answer against the OpenAPI
// document, and decodes it into out (when not nil).
func call(t *testing.T, o *oracle.Oracle, method, url string, body any, out any) int {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	o.Check(t, req, resp.StatusCode, resp.Header, buf.Bytes())
	if out != nil && buf.Len() > 0 {
		if err := json.Unmarshal(buf.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
	}
	return resp.StatusCode
}

type subscription struct {
	ID             string   `json:"id"`
	Secret         string   `json:"secret"`
	Enabled        bool     `json:"enabled"`
	DisabledReason string   `json:"disabled_reason"`
	EventTypes     []string `json:"event_types"`
}

func TestWebhookSubscriptions(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	srv := p.start(nil)
	c := apiClient(t, srv.URL, adminKey)
	o := oracle.New(t)
	ctx := context.Background()

	rcv := newReceiver(t)
	var sub subscription
	if st := call(t, o, http.MethodPost, srv.URL+"/v1/webhooks", map[string]any{"url": rcv.srv.URL, "event_types": []string{"request.succeeded"}}, &sub); st != 201 {
		t.Fatalf("create: %d", st)
	}
	if sub.Secret == "" || !sub.Enabled {
		t.Fatalf("created subscription %+v", sub)
	}
	rcv.setSecret(sub.Secret)
	// Bad subscriptions are refused.
	if st := call(t, o, http.MethodPost, srv.URL+"/v1/webhooks", map[string]any{"url": rcv.srv.URL, "event_types": []string{"request.exploded"}}, nil); st != 400 {
		t.Fatalf("unknown event type: %d", st)
	}
	if st := call(t, o, http.MethodPost, srv.URL+"/v1/webhooks", map[string]any{"url": "ftp://x"}, nil); st != 400 {
		t.Fatalf("bad url: %d", st)
	}

	ok, _, err := c.SubmitRequest(ctx, client.CreateRequest{Input: electrons.Input{Prompt: "hello"}})
	if err != nil {
		t.Fatal(err)
	}
	bad, _, err := c.SubmitRequest(ctx, client.CreateRequest{Input: electrons.Input{Prompt: "x", Options: map[string]any{"fail": "nonsense"}}})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, bad.ID, electrons.StatusFailed)
	waitFor(t, 30*time.Second, "the subscription's webhook", func() bool { return rcv.count() >= 1 })
	waitStatus(t, c, ok.ID, electrons.StatusSucceeded)
	// The failed request's event is not subscribed to: no delivery was made for it.
	var none struct{ Data []any }
	call(t, o, http.MethodGet, srv.URL+"/v1/webhook-deliveries?entity_id="+bad.ID, nil, &none)
	if len(none.Data) != 0 {
		t.Fatalf("deliveries for an event not subscribed to: %v", none.Data)
	}
	rcv.mu.Lock()
	got := append([]hook(nil), rcv.got...)
	rcv.mu.Unlock()
	if len(got) != 1 || got[0].Data.ID != ok.ID || got[0].Type != electrons.EventRequestSucceeded {
		t.Fatalf("subscription received %+v, want only %s's request.succeeded", got, ok.ID)
	}

	// The secret is shown once: a list does not show it.
	var list struct{ Data []subscription }
	call(t, o, http.MethodGet, srv.URL+"/v1/webhooks", nil, &list)
	if len(list.Data) != 1 || list.Data[0].Secret != "" {
		t.Fatalf("list: %+v", list.Data)
	}

	// A receiver that answers 410 Gone disables its subscription; later events go nowhere.
	rcv.answer = func(int) int { return http.StatusGone }
	gone, _, err := c.SubmitRequest(ctx, client.CreateRequest{Input: electrons.Input{Prompt: "again"}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the subscription to be disabled", func() bool {
		call(t, o, http.MethodGet, srv.URL+"/v1/webhooks", nil, &list)
		return len(list.Data) == 1 && !list.Data[0].Enabled
	})
	if list.Data[0].DisabledReason == "" {
		t.Fatal("no reason given for the disabled subscription")
	}
	var dls struct {
		Data []struct {
			ID       string `json:"id"`
			Status   string `json:"status"`
			Attempts int    `json:"attempts"`
		}
	}
	call(t, o, http.MethodGet, srv.URL+"/v1/webhook-deliveries?entity_id="+gone.ID, nil, &dls)
	if len(dls.Data) != 1 || dls.Data[0].Status != "dead" || dls.Data[0].Attempts != 1 {
		t.Fatalf("delivery to a 410 receiver: %+v", dls.Data)
	}

	// Deleting: 204, then 404; it is gone from the list.
	if st := call(t, o, http.MethodDelete, srv.URL+"/v1/webhooks/"+sub.ID, nil, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	if st := call(t, o, http.MethodDelete, srv.URL+"/v1/webhooks/"+sub.ID, nil, nil); st != 404 {
		t.Fatalf("second delete: %d", st)
	}
	call(t, o, http.MethodGet, srv.URL+"/v1/webhooks", nil, &list)
	if len(list.Data) != 0 {
		t.Fatalf("deleted subscription listed: %+v", list.Data)
	}
}

func TestDeadLetterAndReplay(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	srv := p.start(map[string]string{"ELECTRONS_WEBHOOK_RETRY_SCHEDULE": "0s,100ms,100ms"})
	c := apiClient(t, srv.URL, adminKey)
	o := oracle.New(t)
	ctx := context.Background()
	rcv := newInstanceReceiver(t, c)
	rcv.answer = func(int) int { return http.StatusInternalServerError }
	r, _, err := c.SubmitRequest(ctx, client.CreateRequest{Input: electrons.Input{Prompt: "hello"}, CallbackURL: rcv.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	type dl struct {
		ID       string `json:"id"`
		EntityID string `json:"entity_id"`
		Status   string `json:"status"`
		Attempts int    `json:"attempts"`
	}
	var dead struct{ Data []dl }
	waitFor(t, 30*time.Second, "the dead letter", func() bool {
		call(t, o, http.MethodGet, srv.URL+"/v1/webhook-deliveries?status=dead", nil, &dead)
		return len(dead.Data) == 1
	})
	d := dead.Data[0]
	if d.EntityID != r.ID || d.Attempts != 3 {
		t.Fatalf("dead letter %+v: want 3 attempts for %s", d, r.ID)
	}
	rcv.answer = nil // the receiver is fixed
	var replayed dl
	if st := call(t, o, http.MethodPost, srv.URL+"/v1/webhook-deliveries/"+d.ID+"/replay", nil, &replayed); st != 202 || replayed.Status != "pending" {
		t.Fatalf("replay: %d %+v", st, replayed)
	}
	waitFor(t, 30*time.Second, "the replayed webhook", func() bool { return rcv.count() == 1 })
	rcv.mu.Lock()
	h := rcv.got[0]
	rcv.mu.Unlock()
	if h.ID != d.ID || h.Data.ID != r.ID {
		t.Fatalf("replayed webhook-id %s for %s, want %s for %s", h.ID, h.Data.ID, d.ID, r.ID)
	}
	var all struct{ Data []dl }
	waitFor(t, 10*time.Second, "the delivery to succeed", func() bool {
		call(t, o, http.MethodGet, srv.URL+"/v1/webhook-deliveries?entity_id="+r.ID, nil, &all)
		return len(all.Data) == 1 && all.Data[0].Status == "succeeded"
	})
	if all.Data[0].Attempts != 4 {
		t.Fatalf("attempts after replay: %d, want 4", all.Data[0].Attempts)
	}
	// An unknown delivery is not found.
	if st := call(t, o, http.MethodPost, srv.URL+"/v1/webhook-deliveries/msg_01m8a3hz9bxdwvsb4ef1wn0sdc/replay", nil, nil); st != 404 {
		t.Fatalf("replay of an unknown delivery: %d", st)
	}
}
