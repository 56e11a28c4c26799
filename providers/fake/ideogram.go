package fake

// Ideogram: the 3.0 generate endpoint (multipart/form-data) and the legacy generate endpoint
// (JSON image_request). Both answer {"created", "data": [{"url", "prompt", "resolution",
// "is_image_safe", "seed", "style_type"}]}, the url pointing at a PNG of the asked shape hosted by
// this server, as Ideogram hosts its temporary images. Ideogram publishes no rate-limit headers;
// the fake adds Retry-After to its 429s.
//
// Faults: FaultContentPolicy answers 200 with is_image_safe false and a null url (Ideogram's
// unsafe image); a prompt containing ideogramUnsafePrompt gets the other safety refusal, 422
// {"error": "Prompt failed the safety check."}. FaultMalformed is a 200 whose body is not JSON;
// FaultTruncate cuts the JSON body short of its Content-Length.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ideogramUnsafePrompt in a prompt makes the fake refuse it as Ideogram refuses an unsafe prompt.
const ideogramUnsafePrompt = "[fake:unsafe]"

func init() {
	registrations = append(registrations, func(s *Server) {
		d := ideogramDialect{}
		s.Handle("ideogram.v3", "POST /v1/ideogram-v3/generate", d, func(w http.ResponseWriter, r *http.Request, dec *Decision) {
			ideogramGenerate(w, r, dec, false)
		})
		s.Handle("ideogram.legacy", "POST /generate", d, func(w http.ResponseWriter, r *http.Request, dec *Decision) {
			ideogramGenerate(w, r, dec, true)
		})
	})
}

// ideogramDialect writes Ideogram's errors: problem details for most, {"error": …} for the
// safety refusal.
type ideogramDialect struct{}

func (ideogramDialect) LimitHeaders(http.Header, Snapshot) {}

func (ideogramDialect) WriteError(w http.ResponseWriter, fault string, s Snapshot) {
	problem := func(status int, title, detail string) {
		WriteJSON(w, status, map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail})
	}
	switch fault {
	case FaultRateLimit, FaultConcurrency:
		w.Header().Set("Retry-After", ideogramRetryAfter(s.Reset))
		problem(http.StatusTooManyRequests, "Too Many Requests", "Too many requests. Please slow down and try again later.")
	case FaultQuota:
		problem(http.StatusPaymentRequired, "Payment Required", "Insufficient credits: add credits to your API account to continue.")
	case FaultOverloaded:
		w.Header().Set("Retry-After", "1")
		problem(http.StatusServiceUnavailable, "Service Unavailable", "The service is temporarily overloaded.")
	case FaultAuth:
		problem(http.StatusUnauthorized, "Unauthorized", "No authorization token provided or the token is invalid.")
	case FaultInvalid:
		problem(http.StatusBadRequest, "Bad Request", "'prompt' is a required property")
	case FaultContentPolicy:
		// Ideogram withholds an unsafe image: 200, is_image_safe false, url null.
		WriteJSON(w, http.StatusOK, map[string]any{"created": ideogramCreated(), "data": []map[string]any{{
			"url": nil, "prompt": "", "resolution": "1024x1024", "is_image_safe": false, "seed": 0, "style_type": "GENERAL"}}})
	default:
		problem(http.StatusInternalServerError, "Internal Server Error", "An internal error occurred.")
	}
}

// ideogramRetryAfter is the wait until reset in whole seconds (at least 1).
func ideogramRetryAfter(reset time.Time) string {
	secs := 1
	if !reset.IsZero() {
		secs = max(int(math.Ceil(time.Until(reset).Seconds())), 1)
	}
	return strconv.Itoa(secs)
}

func ideogramCreated() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000000+00:00") }

// ideogramShapes maps an aspect ratio to the resolution Ideogram renders it at.
var ideogramShapes = map[string]string{
	"1x1": "1024x1024", "16x9": "1312x736", "9x16": "736x1312", "4x3": "1152x864", "3x4": "864x1152",
	"3x2": "1248x832", "2x3": "832x1248", "16x10": "1280x800", "10x16": "800x1280", "4x5": "896x1120",
	"5x4": "1120x896", "1x2": "704x1408", "2x1": "1408x704", "1x3": "512x1536", "3x1": "1536x512",
}

// ideogramProblem writes a problem-details error from a handler.
func ideogramProblem(w http.ResponseWriter, status int, detail string) {
	WriteJSON(w, status, map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail})
}

func ideogramGenerate(w http.ResponseWriter, r *http.Request, dec *Decision, legacy bool) {
	f, err := ideogramFields(r, legacy)
	if err != nil {
		status := http.StatusBadRequest
		if err == errIdeogramMediaType {
			status = http.StatusUnsupportedMediaType
		}
		ideogramProblem(w, status, err.Error())
		return
	}
	prompt := strings.TrimSpace(f["prompt"])
	if prompt == "" {
		ideogramProblem(w, http.StatusBadRequest, "'prompt' is a required property")
		return
	}
	if strings.Contains(prompt, ideogramUnsafePrompt) {
		WriteJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "Prompt failed the safety check."})
		return
	}
	if n := f["num_images"]; n != "" {
		if k, err := strconv.Atoi(n); err != nil || k < 1 || k > 8 {
			ideogramProblem(w, http.StatusBadRequest, "num_images must be an integer from 1 to 8")
			return
		}
	}
	res, err := ideogramResolution(f, legacy)
	if err != nil {
		ideogramProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	sum := sha256.Sum256([]byte(prompt + "\x00" + res + "\x00" + f["seed"] + "\x00" + f["model"]))
	seed := int64(binary.BigEndian.Uint32(sum[:4]) & 0x7fffffff)
	if s := f["seed"]; s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 || v > math.MaxInt32 {
			ideogramProblem(w, http.StatusBadRequest, "seed must be an integer from 0 to 2147483647")
			return
		}
		seed = v
	}
	ws, hs, _ := strings.Cut(res, "x")
	width, _ := strconv.Atoi(ws)
	height, _ := strconv.Atoi(hs)
	data, err := ideogramPNG(width, height, sum)
	if err != nil {
		ideogramProblem(w, http.StatusInternalServerError, err.Error())
		return
	}
	name := "ideogram-" + hex.EncodeToString(sum[:12]) + ".png"
	url := dec.Host(name, "image/png", data) + "?exp=" + strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	style := f["style_type"]
	if style == "" {
		style = "GENERAL"
	}
	body, _ := json.Marshal(map[string]any{"created": ideogramCreated(), "data": []map[string]any{{
		"url": url, "prompt": prompt, "resolution": res, "is_image_safe": true, "seed": seed, "style_type": style}}})
	switch dec.Fault {
	case FaultMalformed:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`<html><body>upstream error</body></html>`))
	case FaultTruncate:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body[:len(body)/2])
	default:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}
}

var errIdeogramMediaType = errors.New("unsupported media type: send multipart/form-data or application/json")

// ideogramFields reads the request's fields: the multipart form (or a flat JSON object) of 3.0,
// or the image_request object of the legacy API.
func ideogramFields(r *http.Request, legacy bool) (map[string]string, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	f := map[string]string{}
	switch {
	case !legacy && mt == "multipart/form-data":
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return nil, fmt.Errorf("malformed multipart body: %v", err)
		}
		for k, v := range r.MultipartForm.Value {
			if len(v) > 0 {
				f[k] = v[0]
			}
		}
		return f, nil
	case mt == "application/json":
		var obj map[string]any
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		dec.UseNumber()
		if err := dec.Decode(&obj); err != nil {
			return nil, fmt.Errorf("malformed JSON body: %v", err)
		}
		if legacy {
			ir, ok := obj["image_request"].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("'image_request' is a required property")
			}
			obj = ir
		}
		for k, v := range obj {
			switch x := v.(type) {
			case string:
				f[k] = x
			case json.Number:
				f[k] = x.String()
			case bool:
				f[k] = strconv.FormatBool(x)
			}
		}
		return f, nil
	}
	return nil, errIdeogramMediaType
}

// ideogramResolution decides the rendered size from resolution or aspect_ratio.
func ideogramResolution(f map[string]string, legacy bool) (string, error) {
	if r := f["resolution"]; r != "" {
		if legacy {
			r = strings.ReplaceAll(strings.TrimPrefix(r, "RESOLUTION_"), "_", "x")
		}
		ws, hs, ok := strings.Cut(r, "x")
		w, werr := strconv.Atoi(ws)
		h, herr := strconv.Atoi(hs)
		if !ok || werr != nil || herr != nil || w < 256 || h < 256 || w > 2048 || h > 2048 {
			return "", fmt.Errorf("resolution %q is not a supported resolution", f["resolution"])
		}
		return fmt.Sprintf("%dx%d", w, h), nil
	}
	ar := f["aspect_ratio"]
	if ar == "" {
		return ideogramShapes["1x1"], nil
	}
	key := ar
	if legacy {
		key = strings.ReplaceAll(strings.TrimPrefix(ar, "ASPECT_"), "_", "x")
		if !strings.HasPrefix(ar, "ASPECT_") {
			key = ""
		}
	}
	res, ok := ideogramShapes[key]
	if !ok {
		return "", fmt.Errorf("aspect_ratio %q is not a supported aspect ratio", ar)
	}
	return res, nil
}

// ideogramPNG draws a paletted w×h picture (flat bands chosen by the request's hash): a real PNG
// that is small and quick to encode at full size.
func ideogramPNG(w, h int, sum [32]byte) ([]byte, error) {
	pal := color.Palette{}
	for i := 0; i < 8; i++ {
		pal = append(pal, color.RGBA{sum[3*i], sum[3*i+1], sum[3*i+2], 255})
	}
	img := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	band := max(h/8, 1)
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+w]
		c := uint8((y / band) % len(pal))
		for x := range row {
			row[x] = c
			if x > w/3 && x < 2*w/3 && y > h/3 && y < 2*h/3 {
				row[x] = (c + 4) % uint8(len(pal))
			}
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}
