// Package oracle makes the OpenAPI document of the API (api.OpenAPIDocument) the oracle of the
// tests: every response a test sees can be checked against the operation the document gives for
// its method and path: that its status is documented, its Content-Type is one the document
// lists for that status, and its body matches the schema.
//
// Use Check (or CheckRecorder) on a response a handler test produced, or wrap the transport of
// the http.Client that end-to-end tests use with Transport so that every response is checked
// as it passes. Only responses are validated: requests are taken as they are (the server's own
// validation is what tests exercise), so no credential is needed.
package oracle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/distributed-electrons/electrons/api"
)

// Oracle checks HTTP responses against an OpenAPI document. It is safe for concurrent use.
type Oracle struct {
	doc    *openapi3.T
	router routers.Router
	// problem is the schema of problem+json bodies, for paths the document does not have.
	problem *openapi3.Schema
}

// loadAPI loads api.OpenAPIDocument once per test binary: every test shares the result.
var loadAPI = sync.OnceValues(func() (*Oracle, error) { return Load(api.OpenAPIDocument) })

// New returns the oracle of api.OpenAPIDocument, failing tb at once if the document does not
// load or is not a valid OpenAPI document.
func New(tb testing.TB) *Oracle {
	tb.Helper()
	o, err := loadAPI()
	if err != nil {
		tb.Fatalf("oracle: %v", err)
	}
	return o
}

// Load parses and validates an OpenAPI 3.0 document and returns its oracle.
func Load(data []byte) (*Oracle, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate OpenAPI document: %w", err)
	}
	// Route on the path alone: the servers of the document describe deployments, while tests
	// listen on any host and port.
	rdoc := *doc
	rdoc.Servers = nil
	router, err := gorillamux.NewRouter(&rdoc)
	if err != nil {
		return nil, fmt.Errorf("route OpenAPI document: %w", err)
	}
	o := &Oracle{doc: doc, router: router}
	if ref := doc.Components.Schemas["Problem"]; ref != nil {
		o.problem = ref.Value
	}
	return o, nil
}

// Document returns the loaded document, e.g. for a test that every operation is served.
// It must not be modified.
func (o *Oracle) Document() *openapi3.T { return o.doc }

// Check fails tb (without stopping it) when the response (status, header, body) to req does
// not match the document. See Validate.
func (o *Oracle) Check(tb testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	tb.Helper()
	if err := o.Validate(req, status, header, body); err != nil {
		tb.Errorf("OpenAPI oracle: %v\nresponse body: %s", err, excerpt(body))
	}
}

// CheckRecorder is Check for the response a handler wrote to rec.
func (o *Oracle) CheckRecorder(tb testing.TB, req *http.Request, rec *httptest.ResponseRecorder) {
	tb.Helper()
	o.Check(tb, req, rec.Code, rec.Header(), rec.Body.Bytes())
}

// Validate reports how the response (status, header, body) to req departs from the operation
// the document gives for req's method and path, or nil if it does not:
//
//   - the status must be documented for the operation;
//   - a documented response with content needs a Content-Type the document lists for it, and
//     one without content must come without a body;
//   - JSON bodies must be exactly one JSON value matching the schema; NDJSON bodies must have
//     every line match the schema (which describes one line); text/event-stream bodies are not
//     read; response headers the document describes must match their schemas.
//
// A path (or method) the document does not have is fine only when the server answered it 404
// (or 405) with a problem+json body. Paths under /riverui/ (River's UI, not part of the API)
// and HEAD requests are not checked.
func (o *Oracle) Validate(req *http.Request, status int, header http.Header, body []byte) error {
	if req == nil || req.URL == nil {
		return errors.New("no request to match the response with")
	}
	return o.validate(req, status, header, body, false)
}

func (o *Oracle) validate(req *http.Request, status int, header http.Header, body []byte, skipBody bool) error {
	if req.Method == http.MethodHead || req.URL.Path == "/riverui" || strings.HasPrefix(req.URL.Path, "/riverui/") {
		return nil
	}
	if header == nil {
		header = http.Header{}
	}
	what := fmt.Sprintf("%s %s → %d", req.Method, req.URL.Path, status)

	route, params, err := o.router.FindRoute(routable(req))
	if err != nil {
		undocumented := errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed)
		if undocumented && (status == http.StatusNotFound || status == http.StatusMethodNotAllowed) {
			if err := o.validateProblem(status, header, body, skipBody); err != nil {
				return fmt.Errorf("%s (an operation the document does not have): %w", what, err)
			}
			return nil
		}
		return fmt.Errorf("%s: the document has no operation %s %s (%v)", what, req.Method, req.URL.Path, err)
	}
	what = fmt.Sprintf("%s %s (operation %s) → %d", req.Method, req.URL.Path, operationName(route), status)

	responses := route.Operation.Responses
	ref := responses.Status(status)
	if ref == nil {
		ref = responses.Default()
	}
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("%s: status %d is not documented (documented: %s)", what, status, strings.Join(documentedStatuses(responses), ", "))
	}
	resp := ref.Value
	ctype := header.Get("Content-Type")
	mediaType, _, _ := mime.ParseMediaType(ctype)

	var lineSchema *openapi3.Schema // set for NDJSON bodies, validated line by line below
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	}
	opts.WithCustomSchemaErrorFunc(schemaMessage)
	if len(resp.Content) == 0 {
		if len(body) > 0 {
			return fmt.Errorf("%s: the document gives this response no body, but it has %d bytes of %q", what, len(body), ctype)
		}
	} else {
		mt := resp.Content.Get(ctype)
		if mt == nil || ctype == "" {
			return fmt.Errorf("%s: Content-Type %q is not documented (documented: %s)", what, ctype, strings.Join(slices.Sorted(maps.Keys(resp.Content)), ", "))
		}
		switch {
		case skipBody || mediaType == "text/event-stream":
			opts.ExcludeResponseBody = true
		case mediaType == "application/x-ndjson" || mediaType == "application/jsonl":
			opts.ExcludeResponseBody = true
			if mt.Schema != nil {
				lineSchema = mt.Schema.Value
			}
		case isJSON(mediaType):
			if !json.Valid(body) {
				return fmt.Errorf("%s: the %s body is not one valid JSON value", what, mediaType)
			}
		}
	}

	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      route,
			Options:    opts,
		},
		Status:  status,
		Header:  header,
		Options: opts,
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if lineSchema != nil {
		if err := validateLines(lineSchema, body); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

// ValidateSchema reports how the JSON document data departs from the component schema of
// that name (e.g. "WebhookEvent" for a webhook body), or nil if it does not.
func (o *Oracle) ValidateSchema(name string, data []byte) error {
	ref := o.doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("the document has no schema %q", name)
	}
	v, err := decodeJSON(data)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := ref.Value.VisitJSON(v, visitOptions...); err != nil {
		return fmt.Errorf("doesn't match schema #/components/schemas/%s: %w", name, err)
	}
	return nil
}

// CheckSchema fails tb (without stopping it) when data does not match the component schema
// name. See ValidateSchema.
func (o *Oracle) CheckSchema(tb testing.TB, name string, data []byte) {
	tb.Helper()
	if err := o.ValidateSchema(name, data); err != nil {
		tb.Errorf("OpenAPI oracle: %v\ndocument: %s", err, excerpt(data))
	}
}

// routable returns req, or for an artifact download whose key spans several path segments a
// copy whose key is one escaped segment: OpenAPI path parameters cannot hold a "/", and the
// document's /artifacts/{key} means the whole rest of the path.
func routable(req *http.Request) *http.Request {
	rest, ok := strings.CutPrefix(req.URL.Path, "/artifacts/")
	if !ok || !strings.Contains(rest, "/") {
		return req
	}
	u := *req.URL
	u.Path = "/artifacts/" + rest
	u.RawPath = "/artifacts/" + url.PathEscape(rest)
	r := req.Clone(req.Context())
	r.URL = &u
	return r
}

// validateProblem checks a problem+json answer to a path or method the document does not have.
func (o *Oracle) validateProblem(status int, header http.Header, body []byte, skipBody bool) error {
	ctype := header.Get("Content-Type")
	if mediaType, _, _ := mime.ParseMediaType(ctype); mediaType != "application/problem+json" {
		return fmt.Errorf("Content-Type %q, want application/problem+json", ctype)
	}
	if skipBody || o.problem == nil {
		return nil
	}
	v, err := decodeJSON(body)
	if err != nil {
		return fmt.Errorf("problem body: %w", err)
	}
	if err := o.problem.VisitJSON(v, visitOptions...); err != nil {
		return fmt.Errorf("problem body doesn't match schema #/components/schemas/Problem: %w", err)
	}
	if m, ok := v.(map[string]any); ok && fmt.Sprint(m["status"]) != strconv.Itoa(status) {
		return fmt.Errorf("problem status %v differs from the HTTP status %d", m["status"], status)
	}
	return nil
}

// validateLines checks every non-empty line of an NDJSON body against schema.
func validateLines(schema *openapi3.Schema, body []byte) error {
	var errs []error
	for i, line := range bytes.Split(body, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		v, err := decodeJSON(line)
		if err == nil {
			err = schema.VisitJSON(v, visitOptions...)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", i+1, err))
			if len(errs) == 5 {
				errs = append(errs, errors.New("(further lines not checked)"))
				break
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("NDJSON body doesn't match the line schema: %w", errors.Join(errs...))
	}
	return nil
}

// decodeJSON decodes exactly one JSON value, keeping numbers exact as the validator does.
func decodeJSON(data []byte) (any, error) {
	if !json.Valid(data) {
		return nil, errors.New("not one valid JSON value")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// Transport returns a RoundTripper that sends each request with base (http.DefaultTransport if
// nil) and checks every response against the document, failing tb with Errorf when one departs
// from it. Bodies are read in full and restored, so callers see them unchanged; a
// text/event-stream body is passed through unread (its status and headers are still checked).
// The RoundTripper may be used from any goroutine while tb runs.
func (o *Oracle) Transport(tb testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{oracle: o, tb: tb, base: base}
}

type transport struct {
	oracle *Oracle
	tb     testing.TB
	base   http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mediaType == "text/event-stream" {
		if err := t.oracle.validate(req, resp.StatusCode, resp.Header, nil, true); err != nil {
			t.tb.Errorf("OpenAPI oracle: %v", err)
		}
		return resp, nil
	}
	body, rerr := io.ReadAll(resp.Body)
	if cerr := resp.Body.Close(); rerr == nil {
		rerr = cerr
	}
	if rerr != nil {
		// Give the caller what arrived and then the error, as the original body would have.
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{rerr}))
		return resp, nil
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := t.oracle.validate(req, resp.StatusCode, resp.Header, body, false); err != nil {
		t.tb.Errorf("OpenAPI oracle: %v\nresponse body: %s", err, excerpt(body))
	}
	return resp, nil
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func operationName(route *routers.Route) string {
	if id := route.Operation.OperationID; id != "" {
		return id
	}
	return route.Method + " " + route.Path
}

func documentedStatuses(responses *openapi3.Responses) []string {
	if responses == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(responses.Map()))
}

// visitOptions validate a response value, reporting every error concisely.
var visitOptions = []openapi3.SchemaValidationOption{
	openapi3.VisitAsResponse(),
	openapi3.MultiErrors(),
	openapi3.SetSchemaErrorMessageCustomizer(schemaMessage),
}

// schemaMessage says where a value departs from its schema and how, without kin-openapi's dump
// of the whole schema.
func schemaMessage(err *openapi3.SchemaError) string {
	if err.Origin != nil {
		return "" // the default message names the path and the origin's message
	}
	reason := err.Reason
	if reason == "" {
		reason = fmt.Sprintf("doesn't match %q of the schema", err.SchemaField)
	}
	at := "/" + strings.Join(err.JSONPointer(), "/")
	switch err.Value.(type) {
	case map[string]any, []any:
		// A missing or unknown property: the reason names it, and the whole object would drown it.
		return fmt.Sprintf("at %q: %s", at, reason)
	}
	value, _ := json.Marshal(err.Value)
	if len(value) > 200 {
		value = append(value[:200:200], "…"...)
	}
	return fmt.Sprintf("at %q: %s (value %s)", at, reason, value)
}

func isJSON(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

// excerpt shortens a body for a failure message.
func excerpt(body []byte) string {
	const limit = 2048
	if len(body) <= limit {
		return string(body)
	}
	return string(body[:limit]) + fmt.Sprintf("… (%d bytes in all)", len(body))
}
