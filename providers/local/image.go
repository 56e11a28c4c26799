package local

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"strconv"
	"strings"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// Image sizes the local provider accepts, per side. The upper bound keeps one request from asking
// for gigabytes; the lower one matches the smallest image any real provider returns.
const (
	minImageSide     = 16
	maxImageSide     = 4096
	defaultImageSize = "1024x1024"
)

// Palette layout of generated images: a gradient of bands, then the shape colours.
const (
	gradientBands = 16
	shapeColours  = 8
)

// pngEncoder trades size for speed: the images are flat regions that compress well anyway, and
// the benchmark budget for a 1024x1024 image is a few milliseconds.
var pngEncoder = png.Encoder{CompressionLevel: png.BestSpeed}

// generateImage renders the prompt's picture at the requested size.
func generateImage(in electrons.Input, bad bool) (*providers.Output, error) {
	if strings.TrimSpace(in.Prompt) == "" {
		return nil, invalid("input.prompt", "input.prompt is required for image")
	}
	w, h, err := parseSize(in.Size)
	if err != nil {
		return nil, err
	}
	if bad {
		// A 1x1 image whatever was asked: the quality gate must see the size is wrong.
		w, h = 1, 1
	}
	data, err := encodePNG(renderPicture(newRNG("image", in.Prompt), w, h))
	if err != nil {
		return nil, err
	}
	return &providers.Output{Files: []providers.File{{ContentType: "image/png", Data: data}}}, nil
}

// parseSize reads "WxH"; an empty size means the default.
func parseSize(s string) (w, h int, err error) {
	if s == "" {
		s = defaultImageSize
	}
	ws, hs, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	w, werr := parseSide(ws)
	h, herr := parseSide(hs)
	if !ok || werr != nil || herr != nil {
		return 0, 0, invalid("input.size", "input.size must be WIDTHxHEIGHT, like %q, not %q", defaultImageSize, s)
	}
	if w < minImageSide || w > maxImageSide || h < minImageSide || h > maxImageSide {
		return 0, 0, invalid("input.size", "input.size %q is out of range: each side must be %d to %d pixels",
			s, minImageSide, maxImageSide)
	}
	return w, h, nil
}

// parseSide reads a positive decimal without sign or spaces, which strconv.Atoi alone would allow.
func parseSide(s string) (int, error) {
	if s == "" || len(s) > 6 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, strconv.ErrSyntax
	}
	return strconv.Atoi(s)
}

// renderPicture paints a banded vertical gradient and a few flat rectangles and discs, all chosen by
// r. A paletted image with large flat regions is what keeps encoding cheap: the PNG encoder skips
// row filters for paletted images, and runs of one byte compress at memory speed.
func renderPicture(r *rng, w, h int) *image.Paletted {
	top, bottom := randomColour(r), randomColour(r)
	pal := make(color.Palette, 0, gradientBands+shapeColours)
	for i := range gradientBands {
		pal = append(pal, mix(top, bottom, float64(i)/(gradientBands-1)))
	}
	for range shapeColours {
		pal = append(pal, randomColour(r))
	}
	img := image.NewPaletted(image.Rect(0, 0, w, h), pal)

	for y := range h {
		row := img.Pix[y*img.Stride : y*img.Stride+w]
		band := uint8(y * gradientBands / h)
		if y > 0 && img.Pix[(y-1)*img.Stride] == band {
			copy(row, img.Pix[(y-1)*img.Stride:(y-1)*img.Stride+w])
			continue
		}
		for x := range row {
			row[x] = band
		}
	}

	for range r.between(3, 6) {
		idx := uint8(gradientBands + r.intn(shapeColours))
		cx, cy := r.intn(w), r.intn(h)
		size := max(1, int(float64(min(w, h))*(0.08+0.25*r.float())))
		if r.intn(2) == 0 {
			fillRect(img, image.Rect(cx-size, cy-size/2, cx+size, cy+size/2), idx)
		} else {
			fillDisc(img, cx, cy, size, idx)
		}
	}
	return img
}

func fillRect(img *image.Paletted, rect image.Rectangle, idx uint8) {
	rect = rect.Intersect(img.Rect)
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		row := img.Pix[y*img.Stride+rect.Min.X : y*img.Stride+rect.Max.X]
		for x := range row {
			row[x] = idx
		}
	}
}

func fillDisc(img *image.Paletted, cx, cy, radius int, idx uint8) {
	for dy := -radius; dy <= radius; dy++ {
		half := int(math.Sqrt(float64(radius*radius - dy*dy)))
		fillRect(img, image.Rect(cx-half, cy+dy, cx+half+1, cy+dy+1), idx)
	}
}

// randomColour picks a colour that is neither too dark nor too washed out to tell apart.
func randomColour(r *rng) color.RGBA {
	return color.RGBA{R: uint8(r.between(30, 230)), G: uint8(r.between(30, 230)), B: uint8(r.between(30, 230)), A: 255}
}

// mix blends a into b by t in [0, 1].
func mix(a, b color.RGBA, t float64) color.RGBA {
	l := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + (float64(y)-float64(x))*t)) }
	return color.RGBA{R: l(a.R, b.R), G: l(a.G, b.G), B: l(a.B, b.B), A: 255}
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := pngEncoder.Encode(&buf, img); err != nil {
		return nil, encodeError("png", err)
	}
	return buf.Bytes(), nil
}
