package qr

import (
	"bytes"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"strings"
)

// Half-block characters: the ink of a cell draws its dark modules, the top
// one, the bottom one or both.
const (
	blockTop    = '▀'
	blockBottom = '▄'
	blockFull   = '█'
	blockNone   = ' '
)

// Cells is the size of the HalfBlocks rendering in character cells: one
// column per module and one row per two modules.
func (m *Matrix) Cells() (cols, rows int) {
	return m.size, (m.size + 1) / 2
}

// HalfBlocks draws m for a terminal, two modules to a character cell (a
// cell is about twice as tall as wide, so a module comes out square): lines
// of exactly Cells() columns joined by "\n", quiet zone included. An odd
// last row's lower half is light, one more half module of quiet zone.
//
// Dark modules are ink (▀ ▄ █) and light modules, the quiet zone among
// them, are spaces: the background. The lines carry no colour, because a
// code must be dark on light whatever the terminal's theme, and only the
// caller knows the theme and whether colour is allowed. So:
//
//   - draw every line with an explicit dark foreground on a light
//     background (e.g. black on white); the spaces must keep that
//     background, so do not trim them;
//   - with colour off (NO_COLOR), a light terminal's defaults are already
//     right, and reverse video makes a dark terminal's defaults right.
//
// Ink for the dark modules, rather than for the light ones, because the
// light background is what a reader finds the code by: the background fills
// the whole cell, where some fonts leave gaps between the rows of block
// characters, and a gap then only thins a dark module instead of striping
// the quiet zone and the light modules with dark lines.
func HalfBlocks(m *Matrix) string {
	cols, rows := m.Cells()
	var b strings.Builder
	b.Grow(rows * (cols*len(string(blockFull)) + 1))
	for r := range rows {
		if r > 0 {
			b.WriteByte('\n')
		}
		for x := range cols {
			top, bottom := m.Dark(x, 2*r), m.Dark(x, 2*r+1)
			switch {
			case top && bottom:
				b.WriteRune(blockFull)
			case top:
				b.WriteRune(blockTop)
			case bottom:
				b.WriteRune(blockBottom)
			default:
				b.WriteRune(blockNone)
			}
		}
	}
	return b.String()
}

// Image draws m as a grey image, scale pixels to a module side (at least
// 1), black on white, quiet zone included.
func Image(m *Matrix, scale int) image.Image {
	scale = max(scale, 1)
	side := m.size * scale
	img := image.NewGray(image.Rect(0, 0, side, side))
	for y := range side {
		for x := range side {
			c := color.Gray{Y: 0xff}
			if m.Dark(x/scale, y/scale) {
				c = color.Gray{Y: 0}
			}
			img.SetGray(x, y, c)
		}
	}
	return img
}

// PNG encodes Image(m, scale) as a PNG file.
func PNG(m *Matrix, scale int) ([]byte, error) {
	if scale < 1 {
		return nil, fmt.Errorf("qr: scale %d, want at least 1", scale)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, Image(m, scale)); err != nil {
		return nil, fmt.Errorf("qr: encode PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// SVG draws m as an SVG image for a web page: one path of the dark modules
// on a white square, quiet zone included, scaled by the page (its viewBox
// is one unit a module). label is read to screen readers.
func SVG(m *Matrix, label string) string {
	var d strings.Builder
	for y := range m.size {
		for x := 0; x < m.size; {
			if !m.Dark(x, y) {
				x++
				continue
			}
			run := 1
			for m.Dark(x+run, y) {
				run++
			}
			fmt.Fprintf(&d, "M%d %dh%dv1h-%dz", x, y, run, run)
			x += run
		}
	}
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s" shape-rendering="crispEdges">`+
		`<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		m.size, m.size, html.EscapeString(label), m.size, m.size, d.String())
}
