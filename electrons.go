// Package electrons holds the domain of Distributed Electrons: requests, their
// statuses and task types, artifacts, quality verdicts, events and the error
// codes every other package speaks. It imports the standard library only.
package electrons

import (
	"encoding/json"
	"time"
)

// TaskType is the kind of work a request asks for.
type TaskType string

// The task types.
const (
	TaskText       TaskType = "text"
	TaskImage      TaskType = "image"
	TaskAudio      TaskType = "audio"
	TaskVideo      TaskType = "video"
	TaskStockMedia TaskType = "stock_media"
)

// TaskTypes lists every task type in a stable order.
var TaskTypes = []TaskType{TaskText, TaskImage, TaskAudio, TaskVideo, TaskStockMedia}

// Valid reports whether t is a known task type.
func (t TaskType) Valid() bool {
	for _, k := range TaskTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Status is where a request is in its life.
type Status string

// The request statuses.
const (
	StatusQueued     Status = "queued"
	StatusDispatched Status = "dispatched"
	StatusRunning    Status = "running"
	StatusReview     Status = "review"
	StatusSucceeded  Status = "succeeded"
	StatusFailed     Status = "failed"
	StatusCancelled  Status = "cancelled"
)

// Statuses lists every status in life order.
var Statuses = []Status{StatusQueued, StatusDispatched, StatusRunning, StatusReview, StatusSucceeded, StatusFailed, StatusCancelled}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, k := range Statuses {
		if k == s {
			return true
		}
	}
	return false
}

// Terminal reports whether a request in status s will not change again on its own.
func (s Status) Terminal() bool {
	return s == StatusSucceeded || s == StatusFailed || s == StatusCancelled
}

// Priorities run from PriorityHighest to PriorityLowest; PriorityDefault is used when none is given.
const (
	PriorityHighest = 1
	PriorityDefault = 2
	PriorityLowest  = 4
)

// Input is what a request asks a provider for. Which fields matter depends on the task type.
type Input struct {
	Prompt    string          `json:"prompt,omitempty"`
	System    string          `json:"system,omitempty"`
	MaxTokens int             `json:"max_tokens,omitempty"`
	Size      string          `json:"size,omitempty"`
	Voice     string          `json:"voice,omitempty"`
	Query     string          `json:"query,omitempty"`
	Timeline  json.RawMessage `json:"timeline,omitempty"`
	Download  bool            `json:"download,omitempty"`
	Options   map[string]any  `json:"options,omitempty"`
}

// Request is a unit of work as clients see it.
type Request struct {
	ID          string          `json:"id"`
	Status      Status          `json:"status"`
	TaskType    TaskType        `json:"task_type"`
	Model       string          `json:"model,omitempty"`
	Provider    string          `json:"provider,omitempty"`
	Priority    int             `json:"priority"`
	Attempts    int             `json:"attempts"`
	BatchID     *string         `json:"batch_id"`
	CallbackURL string          `json:"callback_url,omitempty"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
	Input       Input           `json:"input"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	CompletedAt *time.Time      `json:"completed_at"`
	Result      *Result         `json:"result,omitempty"`
	Error       *Error          `json:"error,omitempty"`
}

// Result is what a succeeded (or reviewed) request produced.
type Result struct {
	Text      string         `json:"text,omitempty"`
	Artifacts []Artifact     `json:"artifacts"`
	Items     []StockItem    `json:"items,omitempty"`
	Usage     *Usage         `json:"usage,omitempty"`
	Quality   *Quality       `json:"quality,omitempty"`
	Extra     map[string]any `json:"extra,omitempty"`
}

// Artifact is a stored file produced by a request.
type Artifact struct {
	ID          string `json:"id"`
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
	SizeBytes   int64  `json:"size_bytes"`
	SHA256      string `json:"sha256"`
}

// StockItem is one hit of a stock-media search, with its provider metadata.
type StockItem struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"` // photo or video
	Title       string `json:"title,omitempty"`
	URL         string `json:"url"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
	DurationS   int    `json:"duration_s,omitempty"`
	Author      string `json:"author,omitempty"`
	AuthorURL   string `json:"author_url,omitempty"`
	ArtifactID  string `json:"artifact_id,omitempty"`
	ContentType string `json:"content_type,omitempty"`
}

// Usage counts the tokens (or characters) a provider billed.
type Usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

// Verdict is the quality gate's decision.
type Verdict string

// The quality verdicts.
const (
	VerdictApproved Verdict = "approved"
	VerdictReview   Verdict = "review"
	VerdictRejected Verdict = "rejected"
)

// Quality is the quality gate's score and verdict for a result.
type Quality struct {
	Score   float64  `json:"score"`
	Verdict Verdict  `json:"verdict"`
	Reasons []string `json:"reasons"`
}

// Event types, as webhooks and the activity feed name them.
const (
	EventRequestSucceeded = "request.succeeded"
	EventRequestFailed    = "request.failed"
	EventRequestReview    = "request.review"
	EventRequestCancelled = "request.cancelled"
	EventBatchCompleted   = "batch.completed"
)

// EventTypes lists every webhook event type.
var EventTypes = []string{EventRequestSucceeded, EventRequestFailed, EventRequestReview, EventRequestCancelled, EventBatchCompleted}

// EventForStatus names the webhook event for a request that reached status s, or "" if none fires.
func EventForStatus(s Status) string {
	switch s {
	case StatusSucceeded:
		return EventRequestSucceeded
	case StatusFailed:
		return EventRequestFailed
	case StatusReview:
		return EventRequestReview
	case StatusCancelled:
		return EventRequestCancelled
	}
	return ""
}

// Batch is a group of requests submitted together.
type Batch struct {
	ID          string          `json:"id"`
	Status      string          `json:"status"`
	CallbackURL string          `json:"callback_url,omitempty"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
	Counts      BatchCounts     `json:"counts"`
	CreatedAt   time.Time       `json:"created_at"`
	CompletedAt *time.Time      `json:"completed_at"`
}

// Batch statuses.
const (
	BatchInProgress = "in_progress"
	BatchCompleted  = "completed"
	BatchCancelled  = "cancelled"
)

// BatchCounts counts a batch's requests by status.
type BatchCounts struct {
	Total     int `json:"total"`
	Queued    int `json:"queued"`
	Running   int `json:"running"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
}

// Instance is a tenant: every key, request and webhook belongs to one.
type Instance struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

// Model is a routable model: our id, the provider that serves it and the provider's own name for it.
type Model struct {
	ID            string         `json:"id"`
	Provider      string         `json:"provider"`
	ProviderModel string         `json:"provider_model"`
	TaskType      TaskType       `json:"task_type"`
	Enabled       bool           `json:"enabled"`
	Defaults      map[string]any `json:"defaults"`
}
