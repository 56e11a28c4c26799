package local

import (
	"context"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// A video render with input.options.render_polls = N behaves like a hosted render service: the
// first call only starts the job (Output.Pending), and the job is done at the N-th poll. This lets
// demos and tests see a long-running job free its worker slot while it waits.
const defaultPollAfter = 200 * time.Millisecond

var _ providers.Poller = (*Provider)(nil)

// startRender returns the pending job of a video render that asked for render_polls, or nil.
func (p *Provider) startRender(call providers.Call) (*providers.Output, error) {
	if call.TaskType != electrons.TaskVideo {
		return nil, nil
	}
	polls, ok, err := providers.OptionInt(call.Input.Options, "render_polls")
	if err != nil || !ok || polls <= 0 {
		return nil, err
	}
	after, ok, err := providers.OptionMillis(call.Input.Options, "poll_after_ms", maxOptionDuration)
	if err != nil {
		return nil, err
	}
	if !ok || after <= 0 {
		after = defaultPollAfter
	}
	handle := "local-render-" + call.RequestID
	p.mu.Lock()
	if p.renders == nil {
		p.renders = map[string]int{}
	}
	p.renders[handle] = 0
	p.mu.Unlock()
	return &providers.Output{Pending: &providers.Pending{Handle: handle, PollAfter: after}}, nil
}

// Poll advances a render started by Generate; the render is done at its render_polls-th poll.
// A handle this process does not know (it restarted) is finished at once: the output is
// deterministic from the input, so nothing is lost.
func (p *Provider) Poll(ctx context.Context, call providers.Call, handle string) (*providers.Output, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxError(err)
	}
	polls, _, err := providers.OptionInt(call.Input.Options, "render_polls")
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	n, known := p.renders[handle]
	n++
	done := !known || n >= polls
	if done {
		delete(p.renders, handle)
	} else {
		p.renders[handle] = n
	}
	p.mu.Unlock()
	if !done {
		after, _, _ := providers.OptionMillis(call.Input.Options, "poll_after_ms", maxOptionDuration)
		if after <= 0 {
			after = defaultPollAfter
		}
		return &providers.Output{Pending: &providers.Pending{Handle: handle, PollAfter: after}}, nil
	}
	return generateVideo(call.Input, false)
}
