// Package promtext writes metrics in the Prometheus text exposition format
// (version 0.0.4): counters, gauges and histograms with labels, and the Go
// runtime's and the process's figures named as client_golang names them.
//
// It is a few hundred lines rather than client_golang: linking that
// library costs every misetup command its start-up work (the Go and
// process collectors it registers, protobuf descriptors), about 5 ms, a
// quarter of `misetup --version` and part of the wizard's first frame
// (bench/README.md). The tests read what is written with Prometheus's own
// parser and lint it with client_golang's promlint.
package promtext

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// family is one metric family: its name, help and type, and what writes
// its samples.
type family struct {
	name, help, typ string
	write           func(w *bufio.Writer, name string)
}

// Registry holds metric families, written in the order they were added.
// The zero value is ready to use.
type Registry struct{ families []family }

func (r *Registry) add(name, help, typ string, write func(*bufio.Writer, string)) {
	r.families = append(r.families, family{name, help, typ, write})
}

// WriteText writes every family in the text format.
func (r *Registry) WriteText(out io.Writer) error {
	w := bufio.NewWriter(out)
	for _, f := range r.families {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, f.typ)
		f.write(w, f.name)
	}
	return w.Flush()
}

// maxLabels bounds a vector's labels: label values index a map by an
// array, so a lookup does not allocate.
const maxLabels = 3

type labelKey [maxLabels]string

// Vec is a metric per combination of label values, made on first use.
type Vec[M any] struct {
	labels []string // names, in the order WithLabelValues takes values
	make   func() *M
	mu     sync.RWMutex
	m      map[labelKey]*M
}

func newVec[M any](labels []string, mk func() *M) *Vec[M] {
	if len(labels) > maxLabels {
		panic("promtext: more than 3 labels")
	}
	return &Vec[M]{labels: labels, make: mk, m: map[labelKey]*M{}}
}

// WithLabelValues is the metric of these label values (as many as the
// vector has labels, in their order).
func (v *Vec[M]) WithLabelValues(values ...string) *M {
	if len(values) != len(v.labels) {
		panic(fmt.Sprintf("promtext: %d label values for %d labels", len(values), len(v.labels)))
	}
	var k labelKey
	copy(k[:], values)
	v.mu.RLock()
	m, ok := v.m[k]
	v.mu.RUnlock()
	if ok {
		return m
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if m, ok = v.m[k]; !ok {
		m = v.make()
		v.m[k] = m
	}
	return m
}

// each calls f with each metric and its labels written out ({a="x"},
// names sorted), in the order of those labels.
func (v *Vec[M]) each(f func(labels string, m *M)) {
	v.mu.RLock()
	type series struct {
		labels string
		m      *M
	}
	all := make([]series, 0, len(v.m))
	for k, m := range v.m {
		all = append(all, series{formatLabels(v.labels, k[:len(v.labels)]), m})
	}
	v.mu.RUnlock()
	slices.SortFunc(all, func(a, b series) int { return strings.Compare(a.labels, b.labels) })
	for _, s := range all {
		f(s.labels, s.m)
	}
}

// formatLabels is `{name="value",...}` with the names sorted, as
// Prometheus writes them; "" without labels.
func formatLabels(names, values []string) string {
	if len(names) == 0 {
		return ""
	}
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(names[a], names[b]) })
	var b strings.Builder
	b.WriteByte('{')
	for n, i := range idx {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(names[i] + `="` + escapeLabel(values[i]) + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

// withLabel adds one more label (le) to labels written by formatLabels.
func withLabel(labels, name, value string) string {
	if labels == "" {
		return "{" + name + `="` + value + `"}`
	}
	return labels[:len(labels)-1] + "," + name + `="` + value + `"}`
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// Counter counts up.
type Counter struct{ n atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.n.Add(1) }

// CounterVec is a counter per combination of label values.
type CounterVec = Vec[Counter]

// CounterVec adds a family of counters with these labels (at most 3).
func (r *Registry) CounterVec(name, help string, labels ...string) *CounterVec {
	v := newVec(labels, func() *Counter { return new(Counter) })
	r.add(name, help, "counter", func(w *bufio.Writer, name string) {
		v.each(func(labels string, c *Counter) {
			fmt.Fprintf(w, "%s%s %d\n", name, labels, c.n.Load())
		})
	})
	return v
}

// Gauge goes up and down.
type Gauge struct{ n atomic.Int64 }

// Inc adds one.
func (g *Gauge) Inc() { g.n.Add(1) }

// Dec takes one away.
func (g *Gauge) Dec() { g.n.Add(-1) }

// Value is the gauge's value now.
func (g *Gauge) Value() int64 { return g.n.Load() }

// Gauge adds a gauge without labels.
func (r *Registry) Gauge(name, help string) *Gauge {
	g := new(Gauge)
	r.add(name, help, "gauge", func(w *bufio.Writer, name string) {
		fmt.Fprintf(w, "%s %d\n", name, g.n.Load())
	})
	return g
}

// Histogram counts observations into buckets (upper bounds, ascending),
// with their sum.
type Histogram struct {
	bounds  []float64
	counts  []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sumBits atomic.Uint64   // float64 bits
}

// Observe counts one observation.
func (h *Histogram) Observe(v float64) {
	i, _ := slices.BinarySearch(h.bounds, v) // the first bound ≥ v
	h.counts[i].Add(1)
	for {
		old := h.sumBits.Load()
		if h.sumBits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// HistogramVec is a histogram per combination of label values.
type HistogramVec = Vec[Histogram]

// HistogramVec adds a family of histograms with these bucket bounds
// (ascending) and labels (at most 3).
func (r *Registry) HistogramVec(name, help string, bounds []float64, labels ...string) *HistogramVec {
	v := newVec(labels, func() *Histogram {
		return &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
	})
	r.add(name, help, "histogram", func(w *bufio.Writer, name string) {
		v.each(func(labels string, h *Histogram) {
			var cum uint64
			for i := range h.counts {
				cum += h.counts[i].Load()
				le := "+Inf"
				if i < len(bounds) {
					le = formatFloat(bounds[i])
				}
				fmt.Fprintf(w, "%s_bucket%s %d\n", name, withLabel(labels, "le", le), cum)
			}
			fmt.Fprintf(w, "%s_sum%s %s\n", name, labels, formatFloat(math.Float64frombits(h.sumBits.Load())))
			fmt.Fprintf(w, "%s_count%s %d\n", name, labels, cum)
		})
	})
	return v
}

// valueFunc is a family of one sample read when it is written.
func (r *Registry) valueFunc(name, help, typ string, read func() float64) {
	r.add(name, help, typ, func(w *bufio.Writer, name string) {
		fmt.Fprintf(w, "%s %s\n", name, formatFloat(read()))
	})
}

// processStart is when this process started, near enough (the package's
// initialisation).
var processStart = time.Now()

// AddRuntime adds the Go runtime's and the process's families, named as
// client_golang's collectors name them, so dashboards made for those
// work: goroutines, threads, heap, GC; resident and virtual memory, CPU
// time, open and maximum file descriptors, start time (the process ones
// on Linux only).
func (r *Registry) AddRuntime() {
	var (
		mu   sync.Mutex
		ms   runtime.MemStats
		read time.Time
	)
	mem := func(f func(*runtime.MemStats) float64) func() float64 {
		return func() float64 {
			mu.Lock()
			defer mu.Unlock()
			if time.Since(read) > time.Second { // one read per scrape
				runtime.ReadMemStats(&ms)
				read = time.Now()
			}
			return f(&ms)
		}
	}
	r.valueFunc("go_goroutines", "Number of goroutines that currently exist.", "gauge",
		func() float64 { return float64(runtime.NumGoroutine()) })
	r.valueFunc("go_threads", "Number of OS threads created.", "gauge", func() float64 {
		n, _ := runtime.ThreadCreateProfile(nil)
		return float64(n)
	})
	r.add("go_info", "Information about the Go environment.", "gauge", func(w *bufio.Writer, name string) {
		fmt.Fprintf(w, "%s%s 1\n", name, formatLabels([]string{"version"}, []string{runtime.Version()}))
	})
	r.valueFunc("go_memstats_alloc_bytes", "Number of heap bytes allocated and currently in use.", "gauge",
		mem(func(m *runtime.MemStats) float64 { return float64(m.HeapAlloc) }))
	r.valueFunc("go_memstats_heap_inuse_bytes", "Number of heap bytes that are in use.", "gauge",
		mem(func(m *runtime.MemStats) float64 { return float64(m.HeapInuse) }))
	r.valueFunc("go_memstats_sys_bytes", "Number of bytes obtained from system.", "gauge",
		mem(func(m *runtime.MemStats) float64 { return float64(m.Sys) }))
	r.valueFunc("go_memstats_gc_cycles_total", "Number of completed GC cycles.", "counter",
		mem(func(m *runtime.MemStats) float64 { return float64(m.NumGC) }))

	r.addProcess() // process_linux.go
}
