package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
)

// submitFlags are the flags of `requests submit` that make up the request body.
type submitFlags struct {
	taskType       string
	model          string
	prompt         string
	system         string
	maxTokens      int
	size           string
	voice          string
	query          string
	priority       int
	callbackURL    string
	metadata       string
	idempotencyKey string
	input          string
	options        []string
}

// inputFlags are the flags that --input replaces.
var inputFlags = []string{"prompt", "system", "max-tokens", "size", "voice", "query", "option"}

func addSubmitFlags(fs *pflag.FlagSet) *submitFlags {
	f := new(submitFlags)
	fs.StringVar(&f.taskType, "task-type", "", "task type: "+taskTypeList()+" (default: classified from the input)")
	fs.StringVar(&f.model, "model", "", "model id from `models list` (default: routing picks)")
	fs.StringVar(&f.prompt, "prompt", "", "input.prompt")
	fs.StringVar(&f.system, "system", "", "input.system")
	fs.IntVar(&f.maxTokens, "max-tokens", 0, "input.max_tokens")
	fs.StringVar(&f.size, "size", "", "input.size, e.g. 1024x1024")
	fs.StringVar(&f.voice, "voice", "", "input.voice")
	fs.StringVar(&f.query, "query", "", "input.query (stock media)")
	fs.IntVar(&f.priority, "priority", 0, "priority, 1 (highest) to 4 (default 2)")
	fs.StringVar(&f.callbackURL, "callback-url", "", "URL that receives the result webhook")
	fs.StringVar(&f.metadata, "metadata", "", "metadata, a JSON object echoed back")
	fs.StringVar(&f.idempotencyKey, "idempotency-key", "", "idempotency key: resubmitting with it returns the original request")
	fs.StringVar(&f.input, "input", "", "the whole input object as JSON; replaces --prompt, --system, --max-tokens, --size, --voice, --query and --option")
	fs.StringArrayVar(&f.options, "option", nil, "input.options entry `key=value`, repeatable; numbers, true/false, null and JSON objects, arrays and quoted strings are decoded, anything else is a string")
	return f
}

func taskTypeList() string {
	s := make([]string, len(electrons.TaskTypes))
	for i, t := range electrons.TaskTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// request builds the request body from the flags parsed into fs. ignored names
// the input flags that were set but replaced by --input.
func (f *submitFlags) request(fs *pflag.FlagSet) (r client.CreateRequest, ignored []string, err error) {
	r = client.CreateRequest{
		TaskType:       electrons.TaskType(f.taskType),
		Model:          f.model,
		Priority:       f.priority,
		CallbackURL:    f.callbackURL,
		IdempotencyKey: f.idempotencyKey,
	}
	if r.TaskType != "" && !r.TaskType.Valid() {
		return r, nil, usagef("invalid --task-type %q: want one of %s", f.taskType, taskTypeList())
	}
	if f.metadata != "" {
		if !json.Valid([]byte(f.metadata)) {
			return r, nil, usagef("invalid --metadata: not JSON")
		}
		r.Metadata = json.RawMessage(f.metadata)
	}
	if fs.Changed("input") {
		dec := json.NewDecoder(strings.NewReader(f.input))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r.Input); err != nil {
			return r, nil, usagef("invalid --input: %v", err)
		}
		if dec.More() {
			return r, nil, usagef("invalid --input: more than one JSON value")
		}
		for _, name := range inputFlags {
			if fs.Changed(name) {
				ignored = append(ignored, "--"+name)
			}
		}
		return r, ignored, nil
	}
	r.Input = electrons.Input{
		Prompt:    f.prompt,
		System:    f.system,
		MaxTokens: f.maxTokens,
		Size:      f.size,
		Voice:     f.voice,
		Query:     f.query,
	}
	for _, o := range f.options {
		k, v, ok := strings.Cut(o, "=")
		if !ok || k == "" {
			return r, nil, usagef("invalid --option %q: want key=value", o)
		}
		if r.Input.Options == nil {
			r.Input.Options = make(map[string]any)
		}
		r.Input.Options[k] = optionValue(v)
	}
	return r, nil, nil
}

// optionValue decodes the value of --option k=v: JSON numbers (as int64 when
// integral), true, false, null, objects, arrays and quoted strings are taken as
// JSON; anything else is the string itself.
func optionValue(v string) any {
	s := strings.TrimSpace(v)
	var x any
	if s == "" || json.Unmarshal([]byte(s), &x) != nil {
		return v
	}
	if f, ok := x.(float64); ok {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
		return f
	}
	return x
}

// describeIgnored is the warning for input flags that --input replaced.
func describeIgnored(ignored []string) string {
	return fmt.Sprintf("warning: --input replaces %s; ignored", strings.Join(ignored, ", "))
}
