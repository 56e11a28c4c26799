// Package local is the built-in offline provider. It answers every task type from the input
// alone, deterministically, without a network or a key, so that `electrons dev`, demos, tests and
// benchmarks can exercise every path of the platform. It can also misbehave on request, because
// latency, rate limits, server errors, timeouts and bad output are the paths a real provider is
// least willing to show on demand.
//
// What it produces, by task type:
//
//   - text: English-ish sentences composed from the words of input.prompt and input.system, seeded
//     by a hash of both, at most input.max_tokens words long (a token is a whitespace-separated
//     word; 128 when unset), streamed through providers.Call.OnDelta a few words at a time.
//   - image: a PNG of input.size ("WxH", 16..4096 per side, default 1024x1024): a banded gradient
//     and flat shapes whose colours and places follow the prompt.
//   - audio: a 16 kHz 16-bit mono PCM WAV of input.prompt "spoken" as a tone per character, 60 ms
//     each, at least 0.5 s and at most 60 s long; input.voice shifts the pitch.
//   - video: an animated 160x90 GIF of input.timeline — {"clips": [{"text", "duration"}]}, or
//     Shotstack's {"tracks": [{"clips": [{"asset": {"text"}, "length"}]}]} — or, without a
//     timeline, of the prompt's sentences, one clip each.
//   - stock_media: a search of a bundled catalogue of photos and videos by input.query, ranked by
//     tag and title hits; with input.download, a PNG thumbnail (photos) or animated GIF (videos)
//     per item as well.
//
// Options, in input.options (numbers as JSON numbers):
//
//   - latency_ms: wait this long before answering; if the context ends first, fail with timeout.
//   - fail: "rate_limit" (rate_limited, RetryAfter 1 s), "server" (server_error), "timeout"
//     (timeout), or "bad_output" (succeed with output the quality gate must reject: empty text, a
//     1x1 PNG, a WAV without samples, a one-frame 1x1 GIF, no stock items).
//   - retry_after_ms: the RetryAfter of a simulated rate limit.
//   - fail_times: fail only the first fail_times calls for a request id, then succeed.
//   - stream_chunk_delay_ms: wait this long between text deltas.
//   - kind ("photo" or "video") and per_page (1..80, default 5): stock-media search filters.
//
// Unknown options are ignored, because requests routed here may carry another provider's options.
package local
