package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"misetup/flows"
	"misetup/flows/micloud"
)

// progressBar draws a Mi Cloud transfer's progress on one line of a
// terminal (stderr): the category, a bar, the bytes and the time left, and
// the item moving. Off a terminal, or for a transfer under a second, it
// draws nothing.
type progressBar struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex
	start time.Time
	last  time.Time
	drawn bool
}

func newProgressBar(w io.Writer) *progressBar {
	return &progressBar{w: w, tty: isTerminal(w)}
}

// show draws p, at most ten times a second.
func (b *progressBar) show(p micloud.Progress) {
	if !b.tty || p.Total == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if b.start.IsZero() || p.Done == 0 && p.Items == 0 {
		b.start = now
	}
	if now.Sub(b.start) < time.Second || now.Sub(b.last) < 100*time.Millisecond {
		return
	}
	b.last = now
	fmt.Fprint(b.w, "\r\x1b[K"+barLine(p, now.Sub(b.start), 40))
	b.drawn = true
}

// done ends the bar's line.
func (b *progressBar) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprint(b.w, "\r\x1b[K")
	}
	b.drawn, b.start = false, time.Time{}
}

// barLine is p as a line: a bar of width cells, the bytes, the time left
// (from the rate so far) and the item.
func barLine(p micloud.Progress, took time.Duration, width int) string {
	frac := float64(p.Done) / float64(max(p.Total, 1))
	filled := min(int(frac*float64(width)), width)
	left := "…"
	if p.Done > 0 && took > 0 {
		rest := time.Duration(float64(took) * float64(p.Total-p.Done) / float64(p.Done))
		left = rest.Round(time.Second).String() + " left"
	}
	return fmt.Sprintf("%s %s%s %3.0f%% %s of %s, %s  %s", p.Category, strings.Repeat("█", filled), strings.Repeat("░", width-filled),
		frac*100, flows.FormatBytes(p.Done), flows.FormatBytes(p.Total), left, p.Item)
}
