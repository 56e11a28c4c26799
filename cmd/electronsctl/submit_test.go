package main

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/spf13/pflag"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
)

// parseSubmit parses args as the flags of `requests submit` and builds the body.
func parseSubmit(t *testing.T, args ...string) (client.CreateRequest, []string, error) {
	t.Helper()
	fs := pflag.NewFlagSet("submit", pflag.ContinueOnError)
	f := addSubmitFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return f.request(fs)
}

func TestSubmitFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		args        []string
		want        client.CreateRequest
		wantIgnored []string
		wantJSON    string
	}{
		{
			name: "text with options",
			args: []string{"--prompt", "hi", "--system", "be brief", "--max-tokens", "32", "--option", "latency_ms=5",
				"--option", "fail=rate_limit", "--option", "ratio=0.5", "--option", "stream=true", "--option", `code="007"`},
			want: client.CreateRequest{Input: electrons.Input{Prompt: "hi", System: "be brief", MaxTokens: 32,
				Options: map[string]any{"latency_ms": int64(5), "fail": "rate_limit", "ratio": 0.5, "stream": true, "code": "007"}}},
			wantJSON: `{"input":{"prompt":"hi","system":"be brief","max_tokens":32,` +
				`"options":{"code":"007","fail":"rate_limit","latency_ms":5,"ratio":0.5,"stream":true}}}`,
		},
		{
			name: "every body field",
			args: []string{"--task-type", "image", "--model", "local-image", "--prompt", "a fox", "--size", "64x64",
				"--priority", "1", "--callback-url", "https://client.example/hooks", "--metadata", `{"ticket": 42}`,
				"--idempotency-key", "k-1"},
			want: client.CreateRequest{TaskType: electrons.TaskImage, Model: "local-image",
				Input: electrons.Input{Prompt: "a fox", Size: "64x64"}, Priority: 1, CallbackURL: "https://client.example/hooks",
				Metadata: json.RawMessage(`{"ticket": 42}`), IdempotencyKey: "k-1"},
		},
		{
			name: "audio and stock fields",
			args: []string{"--voice", "alloy", "--query", "mountains", "--option", "per_page=3", "--option", "tags=[1,\"a\"]", "--option", "empty="},
			want: client.CreateRequest{Input: electrons.Input{Voice: "alloy", Query: "mountains",
				Options: map[string]any{"per_page": int64(3), "tags": []any{1.0, "a"}, "empty": ""}}},
		},
		{
			name:        "input replaces the single flags",
			args:        []string{"--input", `{"prompt": "from input", "options": {"latency_ms": 1}}`, "--prompt", "ignored", "--option", "x=1", "--model", "m"},
			want:        client.CreateRequest{Model: "m", Input: electrons.Input{Prompt: "from input", Options: map[string]any{"latency_ms": 1.0}}},
			wantIgnored: []string{"--prompt", "--option"},
		},
		{
			name: "option value with equals sign",
			args: []string{"--option", "expr=a=b"},
			want: client.CreateRequest{Input: electrons.Input{Options: map[string]any{"expr": "a=b"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ignored, err := parseSubmit(t, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
			if !reflect.DeepEqual(ignored, tt.wantIgnored) {
				t.Errorf("ignored %v, want %v", ignored, tt.wantIgnored)
			}
			if tt.wantJSON != "" {
				b, err := json.Marshal(got)
				if err != nil {
					t.Fatal(err)
				}
				if string(b) != tt.wantJSON {
					t.Errorf("JSON %s\nwant %s", b, tt.wantJSON)
				}
			}
		})
	}
}

func TestSubmitFlagErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--task-type", "poem"},
		{"--metadata", "{not json"},
		{"--input", `{"prompt": "x", "promt": "typo"}`},
		{"--input", `{} {}`},
		{"--option", "novalue"},
		{"--option", "=1"},
	} {
		_, _, err := parseSubmit(t, args...)
		var u *usageError
		if !errors.As(err, &u) {
			t.Errorf("%q: error %v, want a usage error", args, err)
		}
	}
}

func TestIsJSONL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, data string
		want       bool
	}{
		{"b.jsonl", `{"requests": []}`, true},
		{"b.NDJSON", ``, true},
		{"b.json", `{"custom_id": "1", "body": {}}`, false},
		{"b.txt", `{"requests": [{"input": {"prompt": "hi"}}]}`, false},
		{"b.txt", "{\"requests\": [],\n \"callback_url\": \"https://x\"}\n", false},
		{"b", "{\"custom_id\": \"1\", \"body\": {}}\n{\"custom_id\": \"2\", \"body\": {}}\n", true},
		{"b", `{"custom_id": "1", "body": {"input": {"prompt": "hi"}}}`, true},
	}
	for _, tt := range tests {
		got, err := isJSONL(tt.path, []byte(tt.data))
		if err != nil || got != tt.want {
			t.Errorf("isJSONL(%q, %q) = %v, %v; want %v", tt.path, tt.data, got, err, tt.want)
		}
	}
	if _, err := isJSONL("b", []byte("not json")); err == nil {
		t.Error("isJSONL accepted a file that is not JSON")
	}
}

func TestDecodeBatch(t *testing.T) {
	t.Parallel()
	b, err := decodeBatch([]byte(`{"requests": [{"input": {"prompt": "a"}}, {"task_type": "image", "input": {"prompt": "b"}}], "metadata": {"k": 1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Requests) != 2 || b.Requests[1].TaskType != electrons.TaskImage || string(b.Metadata) != `{"k": 1}` {
		t.Errorf("decoded %+v", b)
	}
	if _, err := decodeBatch([]byte(`{"requests": [], "callback": "typo"}`)); err == nil {
		t.Error("decodeBatch accepted an unknown field")
	}
}
