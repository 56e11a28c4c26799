package local

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// defaultMaxTokens is the length cap when input.max_tokens is unset, as chat APIs have one.
const defaultMaxTokens = 128

// maxNaturalWords bounds how long a composition grows on its own, whatever max_tokens allows,
// the way a model stops when it has said its piece.
const maxNaturalWords = 1024

// Word lists the compositions draw on besides the prompt's own words.
var (
	adjectives = []string{"quiet", "bright", "careful", "simple", "steady", "curious", "patient",
		"open", "practical", "gentle", "bold", "clear", "subtle", "honest", "lively", "modest"}
	verbs = []string{"shapes", "guides", "reveals", "supports", "connects", "explains", "changes",
		"follows", "strengthens", "questions", "invites", "carries", "frames", "outlines"}
	nouns = []string{"idea", "story", "system", "moment", "detail", "question", "pattern", "path",
		"choice", "reader", "answer", "plan", "world", "voice", "habit", "signal"}
	fallbackTopics = []string{"thought", "language", "time", "work", "nature"}
	connectives    = []string{"Still,", "Meanwhile,", "In practice,", "Over time,", "Put simply,",
		"At its best,", "For now,", "Even so,"}
	// Templates use {k} for one of the prompt's words, {a} for an adjective, {v} for a verb and {n}
	// for a common noun; punctuation may follow a placeholder.
	templates = []string{
		"the {k} {v} every {a} {n}.",
		"when {k} meets {k}, the {n} becomes {a}.",
		"a {a} {n} of {k} {v} the {k}.",
		"consider how {k} {v} a {a} {n}.",
		"this is why {k} matters to the {n}.",
		"each {n} around {k} feels {a} and {a}.",
		"in the end, {k} {v} what the {n} needs.",
		"some say {k} is a {a} {n}, yet it {v} {k}.",
		"beyond {k}, a {a} {n} {v} the {k}.",
		"we can see that {k} {v} the {n} of {k}.",
		"nothing about {k} is {a}; it {v} the {n}.",
		"the {a} {n} and the {k} shape each other.",
	}
	// stopWords are too common to stand for a prompt's subject.
	stopWords = toSet("the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had",
		"her", "was", "one", "our", "out", "has", "him", "his", "how", "its", "may", "who", "did",
		"get", "let", "say", "she", "too", "use", "with", "that", "this", "from", "they", "will",
		"would", "there", "their", "what", "about", "which", "when", "your", "into", "than", "then",
		"them", "these", "those", "some", "could", "should", "have", "been", "were", "also", "just",
		"please", "write", "give", "tell", "make", "like", "very", "more", "most", "such", "each",
		"short", "long", "brief", "explain", "describe", "summarise", "summarize", "list", "create",
		"generate", "using", "only", "answer")
)

func toSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// generateText composes the text, streams it through call.OnDelta and reports its usage.
func generateText(ctx context.Context, call providers.Call, opts options, bad bool) (*providers.Output, error) {
	in := call.Input
	if strings.TrimSpace(in.Prompt) == "" && strings.TrimSpace(in.System) == "" {
		return nil, invalid("input.prompt", "input.prompt is required for text")
	}
	if in.MaxTokens < 0 {
		return nil, invalid("input.max_tokens", "input.max_tokens must not be negative")
	}
	maxTokens := in.MaxTokens
	if maxTokens == 0 {
		maxTokens = defaultMaxTokens
	}
	usage := &electrons.Usage{InputTokens: len(strings.Fields(in.Prompt)) + len(strings.Fields(in.System))}
	if bad {
		return &providers.Output{Text: "", Usage: usage}, nil
	}

	r := newRNG("text", in.System, in.Prompt)
	pieces := compose(r, keywords(in.Prompt, in.System), maxTokens)
	if err := stream(ctx, r, pieces, call.OnDelta, opts); err != nil {
		return nil, err
	}
	usage.OutputTokens = len(pieces)
	finish := providers.FinishStop
	if len(pieces) >= maxTokens {
		finish = providers.FinishLength
	}
	return &providers.Output{Text: strings.Join(pieces, ""), Usage: usage, FinishReason: finish}, nil
}

// keywords picks the words that stand for the prompt's subject: the prompt's own first, then the
// system prompt's, without repeats, common words or fragments.
func keywords(prompt, system string) []string {
	var out []string
	seen := map[string]bool{}
	for _, text := range []string{prompt, system} {
		for _, w := range strings.FieldsFunc(strings.ToLower(text), func(c rune) bool {
			return !unicode.IsLetter(c) && !unicode.IsDigit(c) && c != '-' && c != '\''
		}) {
			w = strings.Trim(w, "-'")
			if utf8.RuneCountInString(w) < 3 || stopWords[w] || seen[w] {
				continue
			}
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// compose writes sentences about topics until the composition reaches its natural length, then cuts
// it to maxTokens words. It returns the words each with the whitespace that precedes it, so that
// the pieces concatenate to the text and each piece is one token.
func compose(r *rng, topics []string, maxTokens int) []string {
	if len(topics) == 0 {
		topics = []string{r.pick(fallbackTopics), r.pick(fallbackTopics)}
	}
	natural := min(48+6*len(topics)+r.intn(40), maxNaturalWords)
	target := min(natural, maxTokens)

	var words []string
	// Open on the subject so the answer visibly follows the prompt.
	opening := "This note is about " + topics[0]
	if len(topics) > 1 {
		opening += " and " + topics[1]
	}
	words = append(words, strings.Fields(opening+".")...)
	pieces := make([]string, 0, target+16)
	sep := ""
	for _, w := range words {
		pieces = append(pieces, sep+w)
		sep = " "
	}
	sentences := 1
	for len(pieces) < target {
		sentence := sentenceWords(r, topics)
		if sentences%3 == 0 && r.intn(2) == 0 {
			sentence = append(strings.Fields(r.pick(connectives)), lowerFirst(sentence)...)
		}
		sep := " "
		if sentences%5 == 0 {
			sep = "\n\n"
		}
		for _, w := range sentence {
			pieces = append(pieces, sep+w)
			sep = " "
		}
		sentences++
	}
	return pieces[:min(len(pieces), maxTokens)]
}

// sentenceWords fills one template.
func sentenceWords(r *rng, topics []string) []string {
	tmpl := strings.Fields(r.pick(templates))
	out := make([]string, 0, len(tmpl))
	for _, t := range tmpl {
		switch {
		case strings.HasPrefix(t, "{k}"):
			t = r.pick(topics) + t[3:]
		case strings.HasPrefix(t, "{a}"):
			t = r.pick(adjectives) + t[3:]
		case strings.HasPrefix(t, "{v}"):
			t = r.pick(verbs) + t[3:]
		case strings.HasPrefix(t, "{n}"):
			t = r.pick(nouns) + t[3:]
		}
		out = append(out, t)
	}
	// English wants "an" before a vowel sound; the first letter is close enough.
	for i := range len(out) - 1 {
		if out[i] == "a" && strings.ContainsRune("aeiou", rune(out[i+1][0])) {
			out[i] = "an"
		}
	}
	out[0] = upperFirst(out[0])
	return out
}

func upperFirst(s string) string {
	c, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(c)) + s[n:]
}

func lowerFirst(words []string) []string {
	c, n := utf8.DecodeRuneInString(words[0])
	words[0] = string(unicode.ToLower(c)) + words[0][n:]
	return words
}

// stream hands the pieces to onDelta one to three at a time, as a streaming API sends its chunks,
// pausing opts.chunkDelay between chunks so watchers can see the text arrive.
func stream(ctx context.Context, r *rng, pieces []string, onDelta func(string), opts options) error {
	if onDelta == nil {
		return nil
	}
	for i := 0; i < len(pieces); {
		if i > 0 {
			if err := wait(ctx, opts.chunkDelay); err != nil {
				return err
			}
		}
		n := min(1+r.intn(3), len(pieces)-i)
		onDelta(strings.Join(pieces[i:i+n], ""))
		i += n
	}
	return nil
}
