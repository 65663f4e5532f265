package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"misetup/flows"
	"misetup/flows/micloud"
)

// Restorer brings a device the account's Mi Cloud backups; main makes one
// of flows/micloud (this device's folders and sync state), so a restore
// stopped midway goes on where it stopped.
type Restorer interface {
	Backups(ctx context.Context) ([]micloud.Backup, error)
	Restore(ctx context.Context, categories []string, progress func(micloud.Progress)) error
}

// restoreProgress is a restore at work: written by its progress callback
// (off the event loop), read by the step's body (on it).
type restoreProgress struct {
	mu      sync.Mutex
	running bool
	start   time.Time
	total   int64 // bytes of the categories chosen
	base    int64 // bytes of the pages already done
	last    micloud.Progress
}

func (r *restoreProgress) begin(total int64, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running, r.start, r.total, r.base, r.last = true, now, total, 0, micloud.Progress{}
}

func (r *restoreProgress) end() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running = false
}

// update records p; a new page or category starts its count again, so
// what the last one moved joins the base.
func (r *restoreProgress) update(p micloud.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.Category != r.last.Category || p.Done < r.last.Done {
		r.base += r.last.Done
	}
	r.last = p
}

// now is the bytes done, the total, the item moving and the time since
// the start; ok is false when no restore runs.
func (r *restoreProgress) now() (done, total int64, item string, since time.Time, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return min(r.base+r.last.Done, r.total), r.total, r.last.Item, r.start, r.running
}

// newRestoreScreen is "Restore from Mi Cloud" full screen.
func newRestoreScreen(sh *shared) *stepScreen {
	intro := func() string { return sh.paragraph(sh.st.Text, sh.T("restore.intro"), 0) }
	return newPageStep(sh, flows.StepRestore, sh.restorePage, intro, "restore.loading")
}

// restorePage is the backups restoreStep offers: the ones the Mi Cloud
// step found, or, in a wizard resumed at this step (quit midway through a
// restore), read again from the service.
func (sh *shared) restorePage() page {
	known, restore := sh.wiz.Backups, sh.deps.Restore
	return func(ctx context.Context) (func() *step, error) {
		bs := known
		if len(bs) == 0 && restore != nil {
			var err error
			if bs, err = restore.Backups(ctx); err != nil {
				return nil, err
			}
		}
		return func() *step { return sh.restoreStep(bs) }, nil
	}
}

// restoreStep is "Restore from Mi Cloud" (step 6, after Mi Cloud), on a
// device signing in to an account with backups bs, as a phone's first run
// offers: per category how many items and how big, the ones this device
// syncs chosen; a bar with the bytes and the time left while it works. A
// restore stopped (quit, a lost connection) goes on where it stopped when
// it is started again. One description, drawn full screen by stepView and
// as plain prompts by plain.runStep.
func (sh *shared) restoreStep(bs []micloud.Backup) *step {
	if len(bs) == 0 {
		// Nothing (left) to bring: say so, and go on.
		return &step{
			body:   func(int) string { return sh.paragraph(sh.st.Text, sh.T("restore.nothing"), 0) },
			submit: sh.T("device.continue"),
			run: func(context.Context, values) (outcome, error) {
				return outcome{to: flows.StepFindDevice}, nil
			},
		}
	}
	var cats, names, chosen []string
	sizes := map[string]int64{}
	for _, b := range bs {
		cats = append(cats, b.Category)
		sizes[b.Category] = b.Bytes
		names = append(names, sh.backupLine(b))
		if sh.wiz.Sync == nil || slices.Contains(sh.wiz.Sync.Categories, b.Category) {
			chosen = append(chosen, b.Category)
		}
	}
	restore := sh.deps.Restore
	rp := &restoreProgress{}
	return &step{
		body: func(width int) string {
			text := sh.paragraph(sh.st.Text, sh.T("restore.intro"), 0)
			done, total, item, since, ok := rp.now()
			if !ok || total == 0 {
				return text
			}
			frac := float64(done) / float64(total)
			left := sh.T("restore.left_unknown")
			if el := sh.now().Sub(since); done > 0 && el > time.Second {
				rest := time.Duration(float64(el) * float64(total-done) / float64(done))
				left = sh.T("restore.left", "time", rest.Round(time.Second).String())
			}
			line := sh.T("restore.progress", "done", flows.FormatBytes(done), "total", flows.FormatBytes(total), "left", left)
			return text + "\n\n  " + sh.meter(frac, 30, done > 0) + fmt.Sprintf(" %3.0f%%", frac*100) + "\n  " +
				sh.paragraph(sh.st.Muted, line, 2) + "\n  " + sh.st.Muted.Render(truncate(item, max(width-4, 10)))
		},
		fields: []field{{key: "cats", kind: fieldChecks, label: sh.T("restore.what"), options: names, choices: cats,
			value: checksValue(cats, chosen)}},
		submit: sh.T("restore.submit"), submitKey: "key.restore", busy: sh.T("restore.busy"), arrows: true,
		actions: []action{{label: sh.T("restore.skip"), instant: true, run: func(context.Context, values) (outcome, error) {
			return outcome{to: flows.StepFindDevice}, nil
		}}},
		tick: func() bool { _, _, _, _, ok := rp.now(); return ok },
		run: func(ctx context.Context, v values) (outcome, error) {
			pick := v.checked("cats")
			var total int64
			for _, c := range pick {
				total += sizes[c]
			}
			rp.begin(total, time.Now())
			defer rp.end()
			if err := restore.Restore(ctx, pick, rp.update); err != nil {
				return outcome{}, err
			}
			var restored []micloud.Backup
			for _, b := range bs {
				if slices.Contains(pick, b.Category) {
					restored = append(restored, b)
				}
			}
			return outcome{to: flows.StepFindDevice, apply: func(sh *shared) { sh.wiz.Restored = restored }}, nil
		},
	}
}

// backupLine is a backup as the restore step and the summary name it:
// "Notes: 3 items, 42 B".
func (sh *shared) backupLine(b micloud.Backup) string {
	return sh.T("restore.line", "what", sh.T("sync.cat."+b.Category), "n", b.Items, "size", flows.FormatBytes(b.Bytes))
}

// meter is a bar of width cells, frac of it filled (at least one cell
// when some is set).
func (sh *shared) meter(frac float64, width int, some bool) string {
	filled := min(int(frac*float64(width)+0.5), width)
	if some {
		filled = max(filled, 1)
	}
	return sh.st.Selected.Render(strings.Repeat("█", filled)) + sh.st.Rule.Render(strings.Repeat("░", width-filled))
}
