// Package pexels adapts the Pexels API (https://www.pexels.com/api/documentation/) to the
// Provider interface: stock_media requests become photo or video searches, with the results'
// metadata as items and, when input.download is set, the chosen file of each item as a
// provider-hosted URL for the worker to copy.
//
// Input: input.query (or the prompt when the query is empty) is the search. Options:
//   - kind: "photo" (default) or "video";
//   - per_page: results per page, default 5, at most 80 (Pexels' own maximum);
//   - page: the page of results, default 1;
//   - orientation ("landscape", "portrait", "square"), size ("large", "medium", "small"),
//     color and locale: passed through to Pexels as its filters;
//   - photo_src: which of a photo's sizes to download (original, large2x, large, medium, small,
//     portrait, landscape, tiny), default large.
package pexels

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// Name is the provider name of the model table.
const Name = "pexels"

// DefaultBaseURL is the real Pexels API.
const DefaultBaseURL = "https://api.pexels.com"

// Search paging: Pexels answers at most 80 results a page.
const (
	DefaultPerPage = 5
	MaxPerPage     = 80
)

// maxBody bounds the answer we read: 80 results of metadata are well under a megabyte.
const maxBody = 16 << 20

// Config configures a Provider.
type Config struct {
	// APIKey is sent bare in the Authorization header, as Pexels asks.
	APIKey string
	// BaseURL is where the API lives. Default DefaultBaseURL.
	BaseURL string
	// HTTPClient makes the calls. Default: a client with a 5-minute timeout.
	HTTPClient *http.Client
	// Now tells the time, to turn X-Ratelimit-Reset into a wait. Default time.Now.
	Now func() time.Time
}

// Provider is the Pexels adapter. It is safe for concurrent use.
type Provider struct {
	key    string
	base   string
	client *http.Client
	now    func() time.Time
}

var _ providers.Provider = (*Provider)(nil)

// New returns a Pexels provider configured by cfg.
func New(cfg Config) *Provider {
	p := &Provider{key: cfg.APIKey, base: strings.TrimRight(cfg.BaseURL, "/"), client: cfg.HTTPClient, now: cfg.Now}
	if p.base == "" {
		p.base = DefaultBaseURL
	}
	if p.client == nil {
		p.client = providers.DefaultHTTPClient()
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p
}

// Name returns "pexels".
func (p *Provider) Name() string { return Name }

// Generate runs a stock_media search. Every failure is an *electrons.Error.
func (p *Provider) Generate(ctx context.Context, call providers.Call) (*providers.Output, error) {
	if call.TaskType != electrons.TaskStockMedia {
		return nil, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "task_type",
			Message: fmt.Sprintf("pexels serves stock_media only, not %q", call.TaskType)}
	}
	s, err := parseSearch(call.Input)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+s.path()+"?"+s.values.Encode(), nil)
	if err != nil {
		return nil, &electrons.Error{Code: electrons.CodeInvalidRequest, Message: "pexels: build request", Err: err}
	}
	req.Header.Set("Authorization", p.key)
	req.Header.Set("Accept", "application/json")

	resp, err := p.client.Do(req)
	if err != nil {
		return nil, providers.TransportError(Name, err)
	}
	defer resp.Body.Close()
	now := p.now()
	limits := parseLimits(resp.Header)
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, providers.TransportError(Name, fmt.Errorf("read answer: %w", err))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(resp.StatusCode, resp.Header, body, limits, now)
	}
	items, files, err := parseSearchResponse(s.kind, body, call.Input.Download, s.photoSrc)
	if err != nil {
		return nil, providers.ErrMalformed(Name, err)
	}
	return &providers.Output{Items: items, Files: files, Limits: limits}, nil
}

// search is one search as Pexels will get it.
type search struct {
	kind     string // KindPhoto or KindVideo
	photoSrc string
	values   url.Values
}

func (s search) path() string {
	if s.kind == KindVideo {
		return "/videos/search"
	}
	return "/v1/search"
}

// photoSrcs are the sizes of a photo's src object.
var photoSrcs = []string{"original", "large2x", "large", "medium", "small", "portrait", "landscape", "tiny"}

// parseSearch turns the input into the search's query parameters.
func parseSearch(in electrons.Input) (search, error) {
	query := strings.TrimSpace(in.Query)
	if query == "" {
		query = strings.TrimSpace(in.Prompt) // classified requests may carry the search in the prompt
	}
	if query == "" {
		return search{}, invalid("input.query", "pexels: input.query is required for stock_media")
	}
	s := search{kind: KindPhoto, photoSrc: "large", values: url.Values{"query": {query}}}
	kind, err := optString(in.Options, "kind")
	if err != nil {
		return search{}, err
	}
	switch kind {
	case "", KindPhoto, "photos":
	case KindVideo, "videos":
		s.kind = KindVideo
	default:
		return search{}, invalid("input.options.kind", "pexels: input.options.kind must be photo or video, not %q", kind)
	}
	perPage, ok, err := optInt(in.Options, "per_page")
	if err != nil {
		return search{}, err
	}
	switch {
	case !ok:
		perPage = DefaultPerPage
	case perPage < 1:
		return search{}, invalid("input.options.per_page", "pexels: input.options.per_page must be at least 1")
	case perPage > MaxPerPage:
		perPage = MaxPerPage
	}
	s.values.Set("per_page", strconv.Itoa(perPage))
	page, ok, err := optInt(in.Options, "page")
	if err != nil {
		return search{}, err
	}
	if !ok {
		page = 1
	}
	if page < 1 {
		return search{}, invalid("input.options.page", "pexels: input.options.page must be at least 1")
	}
	s.values.Set("page", strconv.Itoa(page))
	for _, k := range []string{"orientation", "size", "color", "locale"} {
		v, err := optString(in.Options, k)
		if err != nil {
			return search{}, err
		}
		if v != "" {
			s.values.Set(k, v)
		}
	}
	src, err := optString(in.Options, "photo_src")
	if err != nil {
		return search{}, err
	}
	if src != "" {
		found := false
		for _, k := range photoSrcs {
			found = found || k == src
		}
		if !found {
			return search{}, invalid("input.options.photo_src", "pexels: input.options.photo_src must be one of %s", strings.Join(photoSrcs, ", "))
		}
		s.photoSrc = src
	}
	return s, nil
}

// statusError classifies an answer other than 200.
func statusError(status int, h http.Header, body []byte, limits *providers.LimitState, now time.Time) *electrons.Error {
	msg := errorMessage(body)
	if msg == "" {
		msg = http.StatusText(status)
	}
	e := &electrons.Error{Message: fmt.Sprintf("pexels: HTTP %d: %s", status, msg)}
	switch {
	case status == http.StatusTooManyRequests:
		e.Code = electrons.CodeRateLimited
		e.RetryAfter = providers.ParseRetryAfter(h.Get("Retry-After"), now)
		if e.RetryAfter == 0 && limits != nil && !limits.Reset.IsZero() {
			e.RetryAfter = max(limits.Reset.Sub(now), 0)
		}
	case status >= 500:
		e.Code = electrons.CodeServerError
	default:
		e.Code = providers.CodeForStatus(status)
	}
	return e
}

func invalid(param, format string, args ...any) *electrons.Error {
	return &electrons.Error{Code: electrons.CodeInvalidRequest, Param: param, Message: fmt.Sprintf(format, args...)}
}

// optString reads a string option, trimmed; "" when it is not given.
func optString(m map[string]any, key string) (string, error) {
	s, _, err := providers.OptionString(m, key)
	return strings.TrimSpace(s), providers.Named(Name, err)
}

// optInt reads a whole-number option.
func optInt(m map[string]any, key string) (int, bool, error) {
	n, ok, err := providers.OptionInt(m, key)
	return n, ok, providers.Named(Name, err)
}

// errBadShape is the failure of an answer that is JSON but not a search result.
var errBadShape = errors.New("not a Pexels search result")
