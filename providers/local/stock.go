package local

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// Stock search paging, as Pexels pages it: its maximum page is 80 items.
const (
	defaultPerPage = 5
	maxPerPage     = 80
	thumbnailWidth = 160
)

// Stock item kinds.
const (
	kindPhoto = "photo"
	kindVideo = "video"
)

// catalogueJSON is the bundled stock catalogue: a few dozen photos and videos with real-looking
// metadata, so searches return something to show without any network.
//
//go:embed catalogue.json
var catalogueJSON []byte

// catalogueItem is one entry of catalogue.json.
type catalogueItem struct {
	ID        string   `json:"id"`
	Kind      string   `json:"kind"`
	Title     string   `json:"title"`
	Tags      []string `json:"tags"`
	Width     int      `json:"width"`
	Height    int      `json:"height"`
	Duration  int      `json:"duration"`
	Author    string   `json:"author"`
	AuthorURL string   `json:"author_url"`
	URL       string   `json:"url"`
}

// catalogue is parsed once at start-up: the file is part of the binary, so a parse error is a
// build mistake that the package's tests catch, not a condition to handle at run time.
var catalogue = mustParseCatalogue(catalogueJSON)

func mustParseCatalogue(data []byte) []catalogueItem {
	var items []catalogueItem
	if err := json.Unmarshal(data, &items); err != nil {
		panic(fmt.Sprintf("local: parse embedded catalogue.json: %v", err))
	}
	return items
}

// searchStock finds the catalogue items that match input.query and, when input.download is set,
// renders a preview file for each.
func searchStock(in electrons.Input, bad bool) (*providers.Output, error) {
	query := in.Query
	if strings.TrimSpace(query) == "" {
		query = in.Prompt // classified requests may carry the search in the prompt
	}
	terms := searchTerms(query)
	if len(terms) == 0 {
		return nil, invalid("input.query", "input.query is required for stock_media")
	}
	kind, _, err := providers.OptionString(in.Options, "kind")
	if err != nil {
		return nil, err
	}
	switch kind {
	case "", kindPhoto, kindVideo:
	case "photos", "videos":
		kind = strings.TrimSuffix(kind, "s")
	default:
		return nil, providers.InvalidOption("kind", "must be photo or video, not %q", kind)
	}
	perPage, ok, err := providers.OptionInt(in.Options, "per_page")
	if err != nil {
		return nil, err
	}
	if !ok {
		perPage = defaultPerPage
	}
	if perPage < 1 || perPage > maxPerPage {
		return nil, providers.InvalidOption("per_page", "must be 1 to %d", maxPerPage)
	}

	out := &providers.Output{Items: []electrons.StockItem{}}
	if bad {
		return out, nil // no items: the quality gate must see the search found nothing
	}
	ranked := rank(terms, kind)
	for _, it := range ranked[:min(perPage, len(ranked))] {
		item := electrons.StockItem{
			ID: it.ID, Kind: it.Kind, Title: it.Title, URL: it.URL,
			Width: it.Width, Height: it.Height, DurationS: it.Duration,
			Author: it.Author, AuthorURL: it.AuthorURL,
		}
		if in.Download {
			f, err := preview(it)
			if err != nil {
				return nil, err
			}
			item.ContentType = f.ContentType
			out.Files = append(out.Files, f)
		}
		out.Items = append(out.Items, item)
	}
	return out, nil
}

// rank returns the items of kind (any kind when empty) that match at least one term, best first:
// a tag hit counts twice a title hit, since tags are what the catalogue is curated by. Ties keep
// catalogue order, so results are stable.
func rank(terms []string, kind string) []catalogueItem {
	type scored struct {
		item  catalogueItem
		score int
	}
	var hits []scored
	for _, it := range catalogue {
		if kind != "" && it.Kind != kind {
			continue
		}
		tags := make(map[string]bool, len(it.Tags))
		for _, t := range it.Tags {
			tags[singular(strings.ToLower(t))] = true
		}
		title := map[string]bool{}
		for _, w := range searchTerms(it.Title) {
			title[w] = true
		}
		score := 0
		for _, t := range terms {
			if tags[t] {
				score += 2
			}
			if title[t] {
				score++
			}
		}
		if score > 0 {
			hits = append(hits, scored{it, score})
		}
	}
	slices.SortStableFunc(hits, func(a, b scored) int { return b.score - a.score })
	items := make([]catalogueItem, len(hits))
	for i, h := range hits {
		items[i] = h.item
	}
	return items
}

// shortStopWords are the two-letter words a search ignores; stopWords holds the longer ones.
var shortStopWords = toSet("of", "in", "on", "at", "by", "to", "an", "or", "is", "it", "as")

// searchTerms splits a query into lowercase singular words, without the small words that would
// match everything.
func searchTerms(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(c rune) bool {
		return !unicode.IsLetter(c) && !unicode.IsDigit(c)
	}) {
		if len(w) < 2 || stopWords[w] || shortStopWords[w] {
			continue
		}
		out = append(out, singular(w))
	}
	return out
}

// singular strips the common English plural endings, enough for "mountains" to find "mountain"
// and "beaches" to find "beach".
func singular(w string) string {
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 4 && (strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") ||
		strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "sses")):
		return w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
		return w[:len(w)-1]
	}
	return w
}

// preview renders the downloadable stand-in for a catalogue item: a PNG thumbnail of a photo in
// its aspect ratio, or a short animated GIF of a video.
func preview(it catalogueItem) (providers.File, error) {
	if it.Kind == kindVideo {
		anim := renderClips([]clip{{text: it.Title, duration: 0.8}}, videoWidth, videoHeight)
		data, err := encodeGIF(anim)
		if err != nil {
			return providers.File{}, err
		}
		return providers.File{ContentType: "image/gif", Data: data}, nil
	}
	h := thumbnailWidth
	if it.Width > 0 && it.Height > 0 {
		h = min(max(thumbnailWidth*it.Height/it.Width, minImageSide), maxImageSide)
	}
	data, err := encodePNG(renderPicture(newRNG("stock", it.ID), thumbnailWidth, h))
	if err != nil {
		return providers.File{}, err
	}
	return providers.File{ContentType: "image/png", Data: data}, nil
}
