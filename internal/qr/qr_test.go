package qr

import (
	"errors"
	"fmt"
	"image/color"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// otpauthURI is an otpauth URI as the service makes it, for the longest
// Mi ID (10 digits): 78 bytes.
const otpauthURI = "otpauth://totp/Mi%20Account:9999999999?secret=VADETH3ENPLBVW27V6OBBPTJWETI6IWK"

// parseHalfBlocks reads a HalfBlocks rendering back into a Matrix, the way
// a camera would read the screen: ink is dark, a space is light. The quiet
// zone is the number of all-light rings around the code.
func parseHalfBlocks(s string) (*Matrix, error) {
	lines := strings.Split(s, "\n")
	size := utf8.RuneCountInString(lines[0])
	if len(lines) != (size+1)/2 {
		return nil, fmt.Errorf("%d lines of %d columns, want %d lines", len(lines), size, (size+1)/2)
	}
	m := &Matrix{size: size, dark: make([]bool, size*size)}
	for r, line := range lines {
		cells := []rune(line)
		if len(cells) != size {
			return nil, fmt.Errorf("line %d has %d columns, want %d", r, len(cells), size)
		}
		for x, c := range cells {
			var top, bottom bool
			switch c {
			case '█':
				top, bottom = true, true
			case '▀':
				top = true
			case '▄':
				bottom = true
			case ' ':
			default:
				return nil, fmt.Errorf("line %d column %d: %q is not a half block", r, x, c)
			}
			m.dark[2*r*size+x] = top
			switch {
			case 2*r+1 < size:
				m.dark[(2*r+1)*size+x] = bottom
			case bottom:
				return nil, fmt.Errorf("line %d column %d: ink below the code", r, x)
			}
		}
	}
	for m.quiet < size/2 && lightRing(m, m.quiet) {
		m.quiet++
	}
	return m, nil
}

// lightRing reports whether the ring of modules i from the edge is light.
func lightRing(m *Matrix, i int) bool {
	last := m.size - 1 - i
	for j := i; j <= last; j++ {
		if m.Dark(j, i) || m.Dark(j, last) || m.Dark(i, j) || m.Dark(last, j) {
			return false
		}
	}
	return true
}

func equal(a, b *Matrix) bool {
	return a.size == b.size && a.quiet == b.quiet && slices.Equal(a.dark, b.dark)
}

func TestEncode(t *testing.T) {
	for _, level := range []Level{L, M, Q, H} {
		for _, quiet := range []int{0, QuietMin, QuietIdeal} {
			m, err := Encode(otpauthURI, level, quiet)
			if err != nil {
				t.Fatalf("level %v quiet %d: %v", level, quiet, err)
			}
			if (m.Size()-2*quiet-17)%4 != 0 || m.Quiet() != quiet {
				t.Fatalf("level %v quiet %d: size %d is not a QR version plus the quiet zone", level, quiet, m.Size())
			}
			for i := range quiet {
				if !lightRing(m, i) {
					t.Fatalf("level %v: ring %d of the quiet zone has a dark module", level, i)
				}
			}
			// The finder pattern's corner is dark: the code starts inside the quiet zone.
			if !m.Dark(quiet, quiet) || m.Dark(-1, 0) || m.Dark(0, m.Size()) {
				t.Fatalf("level %v quiet %d: corners wrong", level, quiet)
			}
		}
	}
	if _, err := Encode(strings.Repeat("x", 3000), H, QuietMin); err == nil {
		t.Error("3,000 bytes at level H encoded; a QR code holds at most 1,273")
	}
	if _, err := Encode("x", Level(9), QuietMin); err == nil {
		t.Error("an unknown level encoded")
	}
	if _, err := Encode("x", L, -1); err == nil {
		t.Error("a negative quiet zone encoded")
	}
}

// TestFitOTPAuthURI measures the service's otpauth URI and checks what
// Fit gives up first when room is short: the quiet zone from 4 to 2, at
// each level M before L.
func TestFitOTPAuthURI(t *testing.T) {
	tests := []struct {
		cols, rows int
		level      Level
		quiet      int
		cells      string // cols x rows of the rendering
		tooBig     bool
	}{
		{80, 40, M, QuietIdeal, "45x23", false},
		{80, 22, L, QuietIdeal, "41x21", false},
		{80, 20, L, 3, "39x20", false},
		// The scan page at 80x24: 20 lines of body less the line under
		// the code. A version 4 code (33 modules) with a quiet zone of 2.
		{80, 19, L, QuietMin, "37x19", false},
		{80, 18, L, QuietMin, "37x19", true},
		{36, 40, L, QuietMin, "37x19", true},
	}
	for _, tt := range tests {
		m, err := Fit(otpauthURI, tt.cols, tt.rows)
		if m == nil {
			t.Fatalf("Fit(%dx%d): no matrix (%v)", tt.cols, tt.rows, err)
		}
		c, r := m.Cells()
		got := fmt.Sprintf("%dx%d", c, r)
		want, _ := Encode(otpauthURI, tt.level, tt.quiet)
		if got != tt.cells || !equal(m, want) || errors.Is(err, ErrTooBig) != tt.tooBig {
			t.Errorf("Fit(%dx%d) = %s quiet %d, err %v; want %s level %v quiet %d, too big %v",
				tt.cols, tt.rows, got, m.Quiet(), err, tt.cells, tt.level, tt.quiet, tt.tooBig)
		}
	}
}

func TestHalfBlocks(t *testing.T) {
	texts := []string{"", "a", "HELLO WORLD", "1234567890", otpauthURI, strings.Repeat("z", 500)}
	for _, text := range texts {
		for _, quiet := range []int{0, QuietMin, 3, QuietIdeal} {
			m, err := Encode(text, M, quiet)
			if err != nil {
				t.Fatalf("encode %q: %v", text, err)
			}
			s := HalfBlocks(m)
			back, err := parseHalfBlocks(s)
			if err != nil {
				t.Fatalf("%d bytes quiet %d: %v\n%s", len(text), quiet, err, s)
			}
			if !equal(back, m) {
				t.Fatalf("%d bytes quiet %d: the rendering reads back as another matrix\n%s", len(text), quiet, s)
			}
			lines := strings.Split(s, "\n")
			if c, r := m.Cells(); len(lines) != r || utf8.RuneCountInString(lines[0]) != c {
				t.Fatalf("%d lines of %d, Cells says %dx%d", len(lines), utf8.RuneCountInString(lines[0]), c, r)
			}
			if quiet >= 2 && strings.TrimSpace(lines[0]) != "" {
				t.Fatalf("first line %q is not quiet", lines[0])
			}
		}
	}
}

func TestImage(t *testing.T) {
	m, err := Encode(otpauthURI, L, QuietMin)
	if err != nil {
		t.Fatal(err)
	}
	for _, scale := range []int{1, 3} {
		img := Image(m, scale)
		if b := img.Bounds(); b.Dx() != m.Size()*scale || b.Dy() != m.Size()*scale {
			t.Fatalf("scale %d: bounds %v", scale, b)
		}
		for y := range m.Size() * scale {
			for x := range m.Size() * scale {
				g := color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
				if want := m.Dark(x/scale, y/scale); (g == 0) != want || (g != 0 && g != 0xff) {
					t.Fatalf("scale %d: pixel %d,%d is %d, module dark %v", scale, x, y, g, want)
				}
			}
		}
	}
	if _, err := PNG(m, 0); err == nil {
		t.Error("PNG at scale 0 made a file")
	}
	b, err := PNG(m, 2)
	if err != nil || !strings.HasPrefix(string(b), "\x89PNG\r\n\x1a\n") {
		t.Fatalf("PNG: %v, %d bytes", err, len(b))
	}
}
