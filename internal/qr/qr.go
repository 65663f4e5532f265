// Package qr draws QR codes for the screens that need one, such as the
// otpauth URI of two-step verification: text becomes a Matrix (encoded by
// github.com/boombuler/barcode/qr), and a Matrix becomes terminal lines
// (HalfBlocks) or an image (Image, PNG). Both renderings come from the same
// Matrix, quiet zone included, so what the screen shows is what a file or a
// test decodes.
package qr

import (
	"errors"
	"fmt"
	"image/color"

	"github.com/boombuler/barcode/qr"
)

// Level is the error correction level: how much of the code may be lost
// and still read. A higher level makes a bigger code.
type Level int

// Levels, smallest code first.
const (
	L Level = iota // about 7% may be lost
	M              // about 15%
	Q              // about 25%
	H              // about 30%
)

// String is "L", "M", "Q" or "H".
func (l Level) String() string {
	switch l {
	case L:
		return "L"
	case M:
		return "M"
	case Q:
		return "Q"
	case H:
		return "H"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

func (l Level) lib() (qr.ErrorCorrectionLevel, error) {
	switch l {
	case L:
		return qr.L, nil
	case M:
		return qr.M, nil
	case Q:
		return qr.Q, nil
	case H:
		return qr.H, nil
	}
	return 0, fmt.Errorf("qr: unknown error correction level %d", int(l))
}

// Quiet zones, in modules. The standard asks for 4 light modules around the
// code; readers on phones find it with 2 on a screen, which is what lets a
// code fit a small terminal.
const (
	QuietIdeal = 4
	QuietMin   = 2
)

// Matrix is a QR code with its quiet zone: a square of modules, each dark
// or light.
type Matrix struct {
	size  int    // modules per side, quiet zone included
	quiet int    // light modules on each side of the symbol
	dark  []bool // row by row
}

// Encode makes the QR code of text at the error correction level, with
// quiet light modules on each side.
func Encode(text string, level Level, quiet int) (*Matrix, error) {
	if quiet < 0 {
		return nil, fmt.Errorf("qr: negative quiet zone %d", quiet)
	}
	lvl, err := level.lib()
	if err != nil {
		return nil, err
	}
	code, err := qr.Encode(text, lvl, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("qr: encode %d bytes at level %v: %w", len(text), level, err)
	}
	b := code.Bounds()
	m := &Matrix{size: b.Dx() + 2*quiet, quiet: quiet}
	m.dark = make([]bool, m.size*m.size)
	for y := range b.Dy() {
		for x := range b.Dx() {
			g := color.GrayModel.Convert(code.At(b.Min.X+x, b.Min.Y+y)).(color.Gray)
			m.dark[(y+quiet)*m.size+x+quiet] = g.Y < 0x80
		}
	}
	return m, nil
}

// ErrTooBig says that a code does not fit the room given to Fit.
var ErrTooBig = errors.New("qr: code does not fit")

// Fit makes the QR code of text whose HalfBlocks rendering fits cols x rows
// character cells: the biggest quiet zone first (QuietIdeal down to
// QuietMin), and at each the sturdier level M before L. When none fits it
// returns the smallest code (level L, QuietMin) with an error wrapping
// ErrTooBig, so the caller can say how much room it needs (Cells).
func Fit(text string, cols, rows int) (*Matrix, error) {
	var m *Matrix
	for quiet := QuietIdeal; quiet >= QuietMin; quiet-- {
		for _, level := range []Level{M, L} {
			var err error
			if m, err = Encode(text, level, quiet); err != nil {
				return nil, err
			}
			if c, r := m.Cells(); c <= cols && r <= rows {
				return m, nil
			}
		}
	}
	c, r := m.Cells()
	return m, fmt.Errorf("%w: it needs %dx%d cells, there are %dx%d", ErrTooBig, c, r, cols, rows)
}

// Size is the number of modules on a side, quiet zone included.
func (m *Matrix) Size() int { return m.size }

// Quiet is the number of light modules on each side of the symbol.
func (m *Matrix) Quiet() int { return m.quiet }

// Dark reports whether the module in column x, row y is dark; modules
// outside the matrix are light.
func (m *Matrix) Dark(x, y int) bool {
	if x < 0 || y < 0 || x >= m.size || y >= m.size {
		return false
	}
	return m.dark[y*m.size+x]
}
