// Package router consumes the intake stream: it classifies each request, picks its model and
// fallbacks, and dispatches a River job onto the queue of the model's provider.
package router

import (
	"regexp"
	"strings"

	"github.com/distributed-electrons/electrons"
)

var (
	imageWords = regexp.MustCompile(`(?i)\b(image|picture|photo(graph)?|illustration|drawing|draw|paint(ing)?|sketch|logo|icon|render of|poster|wallpaper)\b`)
	audioWords = regexp.MustCompile(`(?i)\b(say|speak|read aloud|narrat(e|ion)|voice ?over|text[- ]to[- ]speech|pronounce)\b`)
	videoWords = regexp.MustCompile(`(?i)\b(video|clip|animation|animate|movie|footage)\b`)
	stockWords = regexp.MustCompile(`(?i)\b(stock|royalty[- ]free|find (a |some )?(photos?|videos?|footage))\b`)
)

// Classify infers the task type of a request that did not name one. Structured fields decide
// first (a timeline is a video render, a query without a prompt is a stock search, a voice or a
// size names audio or image); then words of the prompt; text is the default.
func Classify(in electrons.Input) electrons.TaskType {
	switch {
	case len(in.Timeline) > 0 && string(in.Timeline) != "null":
		return electrons.TaskVideo
	case in.Query != "" && in.Prompt == "":
		return electrons.TaskStockMedia
	case in.Voice != "":
		return electrons.TaskAudio
	case in.Size != "":
		return electrons.TaskImage
	}
	p := strings.TrimSpace(in.Prompt)
	switch {
	case stockWords.MatchString(p):
		return electrons.TaskStockMedia
	case videoWords.MatchString(p):
		return electrons.TaskVideo
	case imageWords.MatchString(p):
		return electrons.TaskImage
	case audioWords.MatchString(p):
		return electrons.TaskAudio
	}
	return electrons.TaskText
}

// Route picks the model for a request and the fallbacks to try after it. An explicit model is
// used alone if its provider is enabled; otherwise the task type's route gives the order, and
// models that are disabled, unknown, of another task type, or whose provider is not enabled are
// passed over. It returns false when no model can serve the request.
func Route(task electrons.TaskType, explicit string, routes map[electrons.TaskType][]string, models map[string]electrons.Model, enabled func(provider string) bool) (electrons.Model, []string, bool) {
	usable := func(id string) (electrons.Model, bool) {
		m, ok := models[id]
		if !ok || !m.Enabled || m.TaskType != task || !enabled(m.Provider) {
			return electrons.Model{}, false
		}
		return m, true
	}
	if explicit != "" {
		m, ok := usable(explicit)
		return m, nil, ok
	}
	var chosen electrons.Model
	var found bool
	var fallbacks []string
	for _, id := range routes[task] {
		m, ok := usable(id)
		if !ok {
			continue
		}
		if !found {
			chosen, found = m, true
			continue
		}
		fallbacks = append(fallbacks, m.ID)
	}
	return chosen, fallbacks, found
}
