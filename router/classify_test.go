package router

import (
	"encoding/json"
	"testing"

	"github.com/distributed-electrons/electrons"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   electrons.Input
		want electrons.TaskType
	}{
		{electrons.Input{Prompt: "Write a haiku about autumn"}, electrons.TaskText},
		{electrons.Input{Prompt: "A photo of a lighthouse at dusk"}, electrons.TaskImage},
		{electrons.Input{Prompt: "anything", Size: "512x512"}, electrons.TaskImage},
		{electrons.Input{Prompt: "Hello there", Voice: "rachel"}, electrons.TaskAudio},
		{electrons.Input{Prompt: "Please narrate this paragraph"}, electrons.TaskAudio},
		{electrons.Input{Query: "mountains"}, electrons.TaskStockMedia},
		{electrons.Input{Prompt: "find some stock footage of rain"}, electrons.TaskStockMedia},
		{electrons.Input{Timeline: json.RawMessage(`{"clips":[]}`)}, electrons.TaskVideo},
		{electrons.Input{Prompt: "a short video of waves"}, electrons.TaskVideo},
		{electrons.Input{}, electrons.TaskText},
	}
	for _, c := range cases {
		if got := Classify(c.in); got != c.want {
			t.Errorf("Classify(%+v) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestRoute(t *testing.T) {
	t.Parallel()
	models := map[string]electrons.Model{
		"claude":     {ID: "claude", Provider: "anthropic", TaskType: electrons.TaskText, Enabled: true},
		"gpt":        {ID: "gpt", Provider: "openai", TaskType: electrons.TaskText, Enabled: true},
		"off":        {ID: "off", Provider: "local", TaskType: electrons.TaskText, Enabled: false},
		"local-text": {ID: "local-text", Provider: "local", TaskType: electrons.TaskText, Enabled: true},
		"local-img":  {ID: "local-img", Provider: "local", TaskType: electrons.TaskImage, Enabled: true},
	}
	routes := map[electrons.TaskType][]string{electrons.TaskText: {"claude", "off", "gpt", "local-text", "missing"}}
	only := func(ps ...string) func(string) bool {
		return func(p string) bool {
			for _, x := range ps {
				if x == p {
					return true
				}
			}
			return false
		}
	}
	m, fb, ok := Route(electrons.TaskText, "", routes, models, only("local"))
	if !ok || m.ID != "local-text" || len(fb) != 0 {
		t.Fatalf("local only: got %s %v %v", m.ID, fb, ok)
	}
	m, fb, ok = Route(electrons.TaskText, "", routes, models, only("local", "anthropic", "openai"))
	if !ok || m.ID != "claude" || len(fb) != 2 || fb[0] != "gpt" || fb[1] != "local-text" {
		t.Fatalf("all: got %s %v %v", m.ID, fb, ok)
	}
	if _, _, ok := Route(electrons.TaskText, "gpt", routes, models, only("local")); ok {
		t.Fatal("explicit model of a disabled provider was routed")
	}
	if _, _, ok := Route(electrons.TaskText, "local-img", routes, models, only("local")); ok {
		t.Fatal("explicit model of another task type was routed")
	}
	if _, _, ok := Route(electrons.TaskImage, "", routes, models, only("local")); ok {
		t.Fatal("task type without a route was routed")
	}
}
