package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	natsgo "github.com/nats-io/nats.go"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/internal/nats"
	"github.com/distributed-electrons/electrons/jobs"
)

// requestEvents streams a request's life as Server-Sent Events: `status` on each change,
// `delta` while text streams, and a final `done` (the request object) or `error`.
func (s *Server) requestEvents(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	id := mux.Vars(r)["id"]
	if _, err := s.store.GetRequest(r.Context(), p.InstanceID, id); err != nil {
		s.problem(w, r, err)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		s.problem(w, r, fmt.Errorf("streaming unsupported"))
		return
	}
	// Subscribe before reading the row, so no change falls between the two.
	ch := make(chan *natsgo.Msg, 256)
	sub, err := s.nc.NC.ChanSubscribe(s.nc.StatusSubject(id), ch)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	defer func() { _ = sub.Unsubscribe() }()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, data any) {
		b, _ := json.Marshal(data)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		flusher.Flush()
	}
	var last electrons.Status
	// check re-reads the row: it sends a status change and reports whether the stream is over.
	check := func() bool {
		row, err := s.store.GetRequest(r.Context(), p.InstanceID, id)
		if err != nil {
			send("error", electrons.Error{Code: electrons.CodeInternal, Message: "the request could not be read"})
			return true
		}
		if row.Status != last {
			last = row.Status
			send("status", map[string]any{"status": row.Status})
		}
		switch row.Status {
		case electrons.StatusSucceeded, electrons.StatusReview:
			send("done", jobs.Present(r.Context(), s.deps.Artifacts, row, s.deps.ArtifactURLTTL))
			return true
		case electrons.StatusFailed, electrons.StatusCancelled:
			e := row.Error
			if e == nil {
				e = &electrons.Error{Code: electrons.Code(row.Status), Message: "request " + string(row.Status)}
			}
			send("error", e)
			return true
		}
		return false
	}
	if check() {
		return
	}
	poll := time.NewTicker(2 * time.Second) // a safety net: live messages are best effort
	defer poll.Stop()
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case m := <-ch:
			var ev nats.LiveEvent
			if json.Unmarshal(m.Data, &ev) != nil {
				continue
			}
			if ev.Event == "delta" {
				fmt.Fprintf(w, "event: delta\ndata: %s\n\n", ev.Data)
				flusher.Flush()
				continue
			}
			if check() {
				return
			}
		case <-poll.C:
			if check() {
				return
			}
		case <-heartbeat.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			flusher.Flush()
		}
	}
}
