package gemini

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strings"

	"google.golang.org/genai"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// contentConfig is the generateContent configuration of call: system instruction, max_tokens
// and input.options.temperature.
func contentConfig(call providers.Call) (*genai.GenerateContentConfig, error) {
	cfg := &genai.GenerateContentConfig{
		// The SDK would otherwise re-send a request whose answer carries a continuation token,
		// and reconnect a dropped stream on its own: both are retries, and those are ours.
		AutomaticContinuation: genai.Ptr(false),
	}
	if s := call.Input.System; s != "" {
		cfg.SystemInstruction = genai.NewContentFromText(s, genai.RoleUser)
	}
	if n := call.Input.MaxTokens; n > 0 {
		cfg.MaxOutputTokens = int32(min(n, math.MaxInt32))
	}
	t, ok, err := providers.OptionNumber(call.Input.Options, "temperature")
	if err != nil {
		return nil, providers.Named(ProviderName, err)
	}
	if ok {
		cfg.Temperature = genai.Ptr(float32(t))
	}
	return cfg, nil
}

func (p *Provider) text(ctx context.Context, call providers.Call) (*providers.Output, error) {
	text, err := prompt(call)
	if err != nil {
		return nil, err
	}
	cfg, err := contentConfig(call)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Models.GenerateContent(ctx, call.Model, genai.Text(text), cfg)
	if err != nil {
		return nil, classify(err)
	}
	return textOutput(resp)
}

// textOutput reads a whole generateContent answer.
func textOutput(resp *genai.GenerateContentResponse) (*providers.Output, error) {
	if err := blocked(resp); err != nil {
		return nil, err
	}
	if len(resp.Candidates) == 0 || resp.Candidates[0] == nil {
		return nil, electrons.Errorf(electrons.CodeBadOutput, "gemini: the answer has no candidates")
	}
	cand := resp.Candidates[0]
	finish, err := finishReason(cand)
	if err != nil {
		return nil, err
	}
	return &providers.Output{Text: candidateText(cand), FinishReason: finish, Usage: usage(resp.UsageMetadata)}, nil
}

// stream generates text with :streamGenerateContent?alt=sse, handing each text part to
// call.OnDelta as it comes. Only an event with a finish reason ends the answer: a stream that
// stops before one is truncated, whatever came before it.
func (p *Provider) stream(ctx context.Context, call providers.Call) (*providers.Output, error) {
	text, err := prompt(call)
	if err != nil {
		return nil, err
	}
	cfg, err := contentConfig(call)
	if err != nil {
		return nil, err
	}
	var (
		sb     strings.Builder
		finish string
		use    *genai.GenerateContentResponseUsageMetadata
	)
	for chunk, err := range p.client.Models.GenerateContentStream(ctx, call.Model, genai.Text(text), cfg) {
		if err != nil {
			return nil, streamError(err)
		}
		if chunk == nil {
			continue
		}
		if err := blocked(chunk); err != nil {
			return nil, err
		}
		if chunk.UsageMetadata != nil {
			use = chunk.UsageMetadata
		}
		if len(chunk.Candidates) == 0 || chunk.Candidates[0] == nil {
			continue
		}
		cand := chunk.Candidates[0]
		if delta := candidateText(cand); delta != "" {
			sb.WriteString(delta)
			deliver(call.OnDelta, delta)
		}
		if cand.FinishReason != "" && cand.FinishReason != genai.FinishReasonUnspecified {
			if finish, err = finishReason(cand); err != nil {
				return nil, err
			}
		}
	}
	if finish == "" {
		return nil, providers.ErrTruncated(ProviderName)
	}
	return &providers.Output{Text: sb.String(), FinishReason: finish, Usage: usage(use)}, nil
}

// streamError classifies an error that ended a stream: an error event or status is the API's
// own; a connection that breaks or a body that stops mid-event is a truncated stream; anything
// else is a body not in the SSE format.
func streamError(err error) *electrons.Error {
	var apiErr genai.APIError
	var apiErrPtr *genai.APIError
	var ne net.Error
	isNet := errors.As(err, &ne)
	switch {
	case errors.As(err, &apiErr), errors.As(err, &apiErrPtr):
		return classify(err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), isNet && ne.Timeout():
		return providers.TransportError(ProviderName, err)
	case errors.Is(err, io.ErrUnexpectedEOF), isNet:
		t := providers.ErrTruncated(ProviderName)
		t.Err = err
		return t
	}
	return providers.ErrMalformed(ProviderName, err)
}

func (p *Provider) image(ctx context.Context, call providers.Call) (*providers.Output, error) {
	text, err := prompt(call)
	if err != nil {
		return nil, err
	}
	cfg, err := contentConfig(call)
	if err != nil {
		return nil, err
	}
	cfg.ResponseModalities = []string{string(genai.ModalityImage), string(genai.ModalityText)}
	aspect, ok, err := providers.OptionString(call.Input.Options, "aspect_ratio")
	if err != nil {
		return nil, providers.Named(ProviderName, err)
	}
	if !ok {
		aspect, err = aspectRatio(call.Input.Size, imageAspects)
		if err != nil {
			return nil, err
		}
	}
	if aspect != "" {
		cfg.ImageConfig = &genai.ImageConfig{AspectRatio: aspect}
	}
	resp, err := p.client.Models.GenerateContent(ctx, call.Model, genai.Text(text), cfg)
	if err != nil {
		return nil, classify(err)
	}
	if err := blocked(resp); err != nil {
		return nil, err
	}
	if len(resp.Candidates) == 0 || resp.Candidates[0] == nil {
		return nil, electrons.Errorf(electrons.CodeBadOutput, "gemini: the answer has no candidates")
	}
	cand := resp.Candidates[0]
	var files []providers.File
	if cand.Content != nil {
		for _, part := range cand.Content.Parts {
			if part == nil || part.Thought || part.InlineData == nil || len(part.InlineData.Data) == 0 {
				continue
			}
			if !strings.HasPrefix(part.InlineData.MIMEType, "image/") {
				continue
			}
			files = append(files, providers.File{ContentType: part.InlineData.MIMEType, Data: part.InlineData.Data})
		}
	}
	if _, err := finishReason(cand); err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, electrons.Errorf(electrons.CodeBadOutput, "gemini: the answer has no image (finish reason %s)", cand.FinishReason)
	}
	return &providers.Output{Text: candidateText(cand), Files: files, Usage: usage(resp.UsageMetadata)}, nil
}

// blocked is the content-policy error of an answer whose prompt was refused.
func blocked(resp *genai.GenerateContentResponse) error {
	if fb := resp.PromptFeedback; fb != nil && fb.BlockReason != "" && fb.BlockReason != genai.BlockedReasonUnspecified {
		msg := "gemini: the prompt was blocked (" + string(fb.BlockReason) + ")"
		if fb.BlockReasonMessage != "" {
			msg += ": " + fb.BlockReasonMessage
		}
		return &electrons.Error{Code: electrons.CodeContentPolicy, Message: msg, Param: "prompt"}
	}
	return nil
}

// finishReason maps a candidate's finish reason to ours. Safety, recitation and blocklist stops
// are content-policy refusals; the other abnormal stops (OTHER, LANGUAGE, NO_IMAGE, …) are bad
// output, worth another try. An empty reason in a whole answer is unknown, not an error.
func finishReason(cand *genai.Candidate) (string, error) {
	switch cand.FinishReason {
	case genai.FinishReasonStop:
		return providers.FinishStop, nil
	case genai.FinishReasonMaxTokens:
		return providers.FinishLength, nil
	case "", genai.FinishReasonUnspecified:
		return "", nil
	case genai.FinishReasonSafety, genai.FinishReasonProhibitedContent, genai.FinishReasonBlocklist,
		genai.FinishReasonSPII, genai.FinishReasonRecitation, genai.FinishReasonImageSafety,
		genai.FinishReasonImageProhibitedContent, genai.FinishReasonImageRecitation:
		msg := "gemini: the answer was stopped by the safety filters (" + string(cand.FinishReason) + ")"
		if cand.FinishMessage != "" {
			msg += ": " + cand.FinishMessage
		}
		return "", electrons.Errorf(electrons.CodeContentPolicy, "%s", msg)
	}
	msg := fmt.Sprintf("gemini: the model stopped with finish reason %s", cand.FinishReason)
	if cand.FinishMessage != "" {
		msg += ": " + cand.FinishMessage
	}
	return "", electrons.Errorf(electrons.CodeBadOutput, "%s", msg)
}

// candidateText joins the text parts of a candidate, leaving out thought summaries.
func candidateText(cand *genai.Candidate) string {
	if cand.Content == nil {
		return ""
	}
	var sb strings.Builder
	for _, part := range cand.Content.Parts {
		if part != nil && !part.Thought {
			sb.WriteString(part.Text)
		}
	}
	return sb.String()
}

// usage counts thinking tokens as output, as Google bills them.
func usage(u *genai.GenerateContentResponseUsageMetadata) *electrons.Usage {
	if u == nil {
		return nil
	}
	return &electrons.Usage{
		InputTokens:  int(u.PromptTokenCount),
		OutputTokens: int(u.CandidatesTokenCount) + int(u.ThoughtsTokenCount),
	}
}
