package ui

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"misetup/flows"
)

// stepView draws a page full screen: it loads the page's step, then shows
// its body and fields, runs its action and follows its watch. Its results
// come back tagged with its id, so a page left behind (esc) ignores them.
type stepView struct {
	sh   *shared
	id   int
	page page

	st      *step
	loading bool
	loadErr error
	// loadIntro and loadBusy are drawn while the page loads: a text above
	// (nil: none) and what is read (a catalog key; "" for "Loading…").
	loadIntro func() string
	loadBusy  string

	vals   values
	began  values                   // the values the fields started from
	inputs map[int]*textinput.Model // by field index
	caps   map[int]*inputCap
	focus  int // a field's index; len(fields) is the button
	menu   map[int]int
	shown  map[int]bool // hidden fields an error revealed
	left   map[int]bool // text fields the focus has left once
	stale  map[int]bool // code fields holding a refused code: the next digit starts over

	touched bool // a key changed an answer
	running bool
	busy    string         // what runs, while it runs
	last    func() tea.Cmd // the action that ran last, to try again
	retry   retrier
	err     error
	note    flows.Text
	warn    string   // what the step must say before going on (see resubmit)
	done    *outcome // the action's outcome, for the host
	// asking is the step's question, shown in place of the buttons; agreed
	// is the field of the question last answered yes ("" when none).
	asking *question
	agreed string

	status   string // the watch's last status
	watching bool
	ticking  bool // the step's tick is running
	round    int  // of the tasks: a late result of an earlier round is dropped
	pending  int  // tasks of this round still at work

	spin spinner.Model
}

var stepViewIDs int

func newStepView(sh *shared, p page) *stepView {
	stepViewIDs++
	return &stepView{sh: sh, id: stepViewIDs, page: p, spin: newSpinner(sh)}
}

// Messages of a step view, tagged with its id.
type (
	stepLoadedMsg struct {
		id    int
		build func() *step
		err   error
	}
	stepRanMsg struct {
		id  int
		out outcome
		err error
	}
	stepWatchMsg struct {
		id     int
		status func() string
		done   bool
		err    error
	}
	stepWatchTickMsg struct{ id int }
	stepTickMsg      struct{ id int }
	stepRefreshedMsg struct {
		id    int
		apply func(*shared)
	}
	stepTaskMsg struct {
		id, round int
		apply     func(*shared)
	}
)

// load reads the page again (shown first, or come back to).
func (v *stepView) load() tea.Cmd {
	v.loading, v.loadErr = true, nil
	ctx, cancel := v.sh.callCtx()
	id, p := v.id, v.page
	return tea.Batch(v.spin.Tick, func() tea.Msg {
		defer cancel()
		build, err := p(ctx)
		return stepLoadedMsg{id: id, build: build, err: err}
	})
}

// show takes a loaded step: its fields start from their values, and its
// work starts (tasks on the first showing, a refresh, a watch).
func (v *stepView) show(st *step) tea.Cmd {
	v.prepare(st)
	var cmds []tea.Cmd
	if st.tasks != nil && (st.ran == nil || !st.ran()) {
		cmds = append(cmds, v.startTasks())
	}
	if st.refresh != nil {
		ctx, cancel := v.sh.callCtx()
		id, refresh := v.id, st.refresh
		cmds = append(cmds, func() tea.Msg {
			defer cancel()
			return stepRefreshedMsg{id: id, apply: refresh(ctx)}
		})
	}
	if st.watch != nil {
		v.watching = true
		cmds = append(cmds, v.poll())
	}
	if v.spinning() {
		cmds = append(cmds, v.spin.Tick)
	}
	v.settle()
	return tea.Batch(append(cmds, v.tickCmd(), v.focusCmd())...)
}

// prepare takes a step to draw: its fields start from their values.
func (v *stepView) prepare(st *step) {
	v.st, v.loading = st, false
	v.vals = values{}
	v.inputs, v.caps, v.menu, v.shown, v.left = map[int]*textinput.Model{}, map[int]*inputCap{}, map[int]int{}, map[int]bool{}, map[int]bool{}
	v.stale = map[int]bool{}
	v.focus = v.startFocus()
	for i, f := range st.fields {
		v.vals[f.key] = f.value
		switch f.kind {
		case fieldText, fieldSecret:
			limit := f.limit
			if limit == 0 {
				limit = 128
			}
			ti := newInput(v.sh, f.placeholder, limit, f.kind == fieldSecret)
			ti.SetValue(f.value)
			v.inputs[i], v.caps[i] = &ti, &inputCap{}
		case fieldMenu:
			v.menu[i] = max(v.vals.index(f.key), 0)
		}
	}
	v.began = cloneValues(v.vals)
	st.frame = func() string { return v.spin.View() }
	v.restyle()
}

// keepTyped takes what the person typed and chose in old's fields into
// the same fields of v; passwords are typed again (after a reset, the old
// one is stale), and a menu, which acts when chosen, starts over.
func (v *stepView) keepTyped(old *stepView) {
	typed := map[string]string{}
	for i, f := range old.st.fields {
		switch f.kind {
		case fieldText, fieldSecret:
			typed[f.key] = old.inputs[i].Value()
		case fieldToggle, fieldChoice, fieldChecks, fieldSpin:
			typed[f.key] = old.vals[f.key]
		}
	}
	for i, f := range v.st.fields {
		t, ok := typed[f.key]
		if !ok || f.kind == fieldSecret && !v.st.keepSecrets || f.kind == fieldMenu {
			continue
		}
		if ti, ok := v.inputs[i]; ok {
			ti.SetValue(t)
		}
		v.vals[f.key] = t
	}
	v.agreed = old.agreed
	v.left = old.left
	v.focus = old.focus // where the person was
	v.touched = true
}

func (v *stepView) restyle() {
	if v.st == nil {
		return
	}
	lw := v.labelWidth()
	for _, ti := range v.inputs {
		v.sh.styleInputs(lw, ti)
	}
	v.spin.Style = v.sh.st.Spinner
}

// labelWidth is the width of the labels drawn before their fields, so
// that the fields stand in one column.
func (v *stepView) labelWidth() int {
	return v.widthOf(fieldText, fieldSecret, fieldChoice, fieldSpin, fieldCode)
}

// widthOf is the width of the labels of the fields of the kinds given.
func (v *stepView) widthOf(kinds ...fieldKind) int {
	var labels []string
	for _, f := range v.st.fields {
		if slices.Contains(kinds, f.kind) {
			labels = append(labels, f.label)
		}
	}
	return labelWidth(labels...)
}

func (v *stepView) focusCmd() tea.Cmd {
	for _, ti := range v.inputs {
		ti.Blur()
	}
	if ti, ok := v.inputs[v.focus]; ok {
		return ti.Focus()
	}
	return nil
}

// stops is the number of places the focus can be: the fields, the
// button when there is one, and the actions' buttons.
func (v *stepView) stops() int {
	return max(v.firstAction()+len(v.st.actions), 1)
}

// firstAction is the focus of the first action's button.
func (v *stepView) firstAction() int {
	n := len(v.st.fields)
	if v.st.submit != "" {
		n++
	}
	return n
}

// startTasks starts a round of the step's tasks, all at once.
func (v *stepView) startTasks() tea.Cmd {
	v.round++
	fns := v.st.tasks()
	v.pending = len(fns)
	cmds := []tea.Cmd{v.spin.Tick}
	for _, f := range fns {
		id, round, ctx := v.id, v.round, v.sh.ctx
		cmds = append(cmds, func() tea.Msg { return stepTaskMsg{id: id, round: round, apply: f(ctx)} })
	}
	return tea.Batch(cmds...)
}

// tickCmd starts the step's tick when it has one that is not running.
func (v *stepView) tickCmd() tea.Cmd {
	if v.st.tick == nil || v.ticking || !v.st.tick() {
		return nil
	}
	v.ticking = true
	id := v.id
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return stepTickMsg{id: id} })
}

// startFocus is the field the focus starts on (step.start): the first
// unless the step names one.
func (v *stepView) startFocus() int {
	for i, f := range v.st.fields {
		if f.key == v.st.start && v.st.start != "" {
			return i
		}
	}
	return 0
}

// home puts the focus where the step starts.
func (v *stepView) home() tea.Cmd {
	v.focus = v.startFocus()
	v.settle()
	return v.focusCmd()
}

// settle moves the focus off a field that no longer counts (a code that
// expired): to what can be done now.
func (v *stepView) settle() {
	if v.focus < len(v.st.fields) && !v.counts(v.focus) {
		v.move(1)
	}
}

// poll asks the watch once.
func (v *stepView) poll() tea.Cmd {
	if v.st == nil || v.st.watch == nil {
		return nil
	}
	ctx, cancel := v.sh.callCtx()
	id, w := v.id, v.st.watch
	return func() tea.Msg {
		defer cancel()
		status, done, err := w(ctx)
		return stepWatchMsg{id: id, status: status, done: done, err: err}
	}
}

// submit checks the values asked and runs the step's action with them,
// once its question, if the values call for one, is answered.
func (v *stepView) submit() tea.Cmd {
	if v.running {
		return nil
	}
	for i := range v.inputs {
		v.left[i] = true // what is wrong is said in full from now on
	}
	if v.st.check != nil {
		if err := v.st.check(v.answers()); err != nil {
			v.err = err
			return v.focusField(err)
		}
	}
	if v.st.ask != nil {
		if q := v.st.ask(v.answers()); q != nil && v.agreed != q.about {
			v.asking, v.err = q, nil
			return nil
		}
	}
	return v.start(v.st.run, v.st.busy)
}

// resubmit runs the step's action again with what it holds (the code
// screen's "Send a new code"), or, when the values do not pass its check
// (a password is typed again after a restart), says warn and puts the
// focus where the check leads.
func (v *stepView) resubmit(warn string) tea.Cmd {
	v.err, v.warn = nil, ""
	cmd := v.submit()
	if v.err != nil { // refused by the check: said as warn, not as an error
		v.err, v.warn = nil, warn
	}
	return cmd
}

// answer takes the answer to the question asked: yes runs the action as
// chosen, no changes the values first.
func (v *stepView) answer(yes bool) tea.Cmd {
	q := v.asking
	v.asking = nil
	if yes {
		v.agreed = q.about
	} else {
		q.change(v.vals)
	}
	return v.start(v.st.run, v.st.busy)
}

// set changes the value of the field i (a toggle, a choice, the checks):
// an answer given to a question about it no longer holds.
func (v *stepView) set(i int, value string) {
	key := v.st.fields[i].key
	v.touched = v.touched || v.vals[key] != value
	v.vals[key] = value
	if v.agreed == key {
		v.agreed = ""
	}
}

// start runs an action (the step's, or a button's) with the values asked.
// When the service cannot be reached, the step may keep the choice for
// later (its offline func) and go on.
func (v *stepView) start(run func(context.Context, values) (outcome, error), busy string) tea.Cmd {
	return v.startAs(run, busy, v.st.instant)
}

// startAs is start, on the event loop when instant (the run calls
// nothing).
func (v *stepView) startAs(run func(context.Context, values) (outcome, error), busy string, instant bool) tea.Cmd {
	if run == nil || v.running {
		return nil
	}
	vals := v.answers()
	if instant {
		out, err := run(v.sh.ctx, vals)
		return v.Update(stepRanMsg{id: v.id, out: out, err: err})
	}
	v.running, v.busy, v.err, v.note = true, busy, nil, flows.Text{}
	v.last = func() tea.Cmd { return v.startAs(run, busy, instant) }
	ctx, cancel := v.sh.callCtx()
	id := v.id
	return tea.Batch(v.spin.Tick, func() tea.Msg {
		defer cancel()
		out, err := run(ctx, vals)
		return stepRanMsg{id: id, out: out, err: err}
	})
}

// press runs the button a, as it is now.
func (v *stepView) press(a action) tea.Cmd {
	if a = a.now(); a.wait {
		return nil
	}
	return v.startAs(a.run, a.busy, a.instant)
}

// focusField puts the focus where an error leads: on the field it names
// (revealed when hidden, emptied when typed again), or on the button it
// calls for.
func (v *stepView) focusField(err error) tea.Cmd {
	ue := flows.Explain(err)
	if ue == nil {
		return nil
	}
	to := -1
	for i, f := range v.st.fields {
		if !f.names(ue) || !f.part(v.vals) {
			continue
		}
		v.shown[i] = true
		if ti, ok := v.inputs[i]; ok && f.retype {
			ti.SetValue("")
			v.vals[f.key] = ""
		}
		if to < 0 {
			to = i
		}
	}
	for j, a := range v.st.actions {
		if slices.Contains(a.on, ue.Key) {
			to = v.firstAction() + j
		}
	}
	if to < 0 {
		return nil
	}
	v.focus = to
	return v.focusCmd()
}

// visible reports whether the field i is drawn and asked.
func (v *stepView) visible(i int) bool {
	if i >= len(v.st.fields) {
		return true
	}
	f := v.st.fields[i]
	return (!f.hidden || v.shown[i]) && f.part(v.vals)
}

// move puts the focus on the next place it can be, d steps away: a field
// drawn and counting. It enters a checks field at its first option going
// down, at its last going up.
func (v *stepView) move(d int) tea.Cmd {
	if _, ok := v.inputs[v.focus]; ok {
		v.left[v.focus] = true
	}
	n := v.stops()
	for range n {
		v.focus = (v.focus + d + n) % n
		if v.visible(v.focus) && v.counts(v.focus) {
			break
		}
	}
	if v.focus < len(v.st.fields) && v.st.fields[v.focus].kind == fieldChecks {
		v.menu[v.focus] = 0
		if d < 0 {
			v.menu[v.focus] = len(v.st.fields[v.focus].options) - 1
		}
	}
	return v.focusCmd()
}

// counts reports whether the field i counts with the values now (see
// field.off); buttons always do.
func (v *stepView) counts(i int) bool { return i >= len(v.st.fields) || v.st.fields[i].counts(v.vals) }

// answers are the values of the fields shown: hidden ones are left out.
func (v *stepView) answers() values {
	for i, ti := range v.inputs {
		v.vals[v.st.fields[i].key] = fieldValue(v.st.fields[i], ti.Value())
	}
	out := cloneValues(v.vals)
	for i, f := range v.st.fields {
		if !v.visible(i) {
			delete(out, f.key)
		}
	}
	return out
}

// keepForLater is c while a retry counts down: the step's later keeps the
// choice and goes on.
func (v *stepView) keepForLater() tea.Cmd {
	v.retry.stop()
	v.running, v.busy, v.err = true, "", nil
	id, later, vals := v.id, v.st.later, cloneValues(v.vals)
	return func() tea.Msg {
		out, err := later(vals)
		return stepRanMsg{id: id, out: out, err: err}
	}
}

func cloneValues(v values) values {
	c := make(values, len(v))
	for k, x := range v {
		c[k] = x
	}
	return c
}

// Update handles a message; outcomes reach the host through v.done.
func (v *stepView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case stylesChangedMsg, tea.WindowSizeMsg:
		v.restyle()
		return nil
	case stepLoadedMsg:
		if msg.id != v.id {
			return nil
		}
		if msg.err != nil {
			v.loading, v.loadErr = false, msg.err
			return v.retry.failed(msg.err, v.sh.now(), v.load) // the service did not answer: again by itself
		}
		v.retry.stop()
		return v.show(msg.build())
	case stepRanMsg:
		if msg.id != v.id {
			return nil
		}
		v.running = false
		if v.err = msg.err; v.err != nil {
			if v.st.failed != nil {
				v.st.failed(v.sh, v.answers(), msg.err)
			}
			focus := v.focusField(msg.err)
			for i, f := range v.st.fields {
				if f.kind == fieldCode && f.names(flows.Explain(msg.err)) {
					v.stale[i] = true // the refused code stays in sight: the next digit starts over
				}
			}
			if offline(msg.err) && v.st.submit != "" {
				// The service did not answer: it is tried again by itself,
				// and the focus leaves the text so keys act (r at once).
				v.focus = len(v.st.fields)
				focus = v.focusCmd()
			}
			v.settle()
			return tea.Batch(focus, v.retry.failed(msg.err, v.sh.now(), v.last), v.tickCmd())
		}
		v.retry.stop()
		out := msg.out
		v.done = &out
		v.note = out.note
		return nil
	case stepTaskMsg:
		if msg.id != v.id || msg.round != v.round {
			return nil // a late result of a view left, or of an earlier round
		}
		if msg.apply != nil {
			msg.apply(v.sh)
		}
		v.pending--
		return nil
	case stepRefreshedMsg:
		if msg.id == v.id && msg.apply != nil {
			msg.apply(v.sh)
			v.settle()
			return tea.Batch(v.tickCmd(), v.focusCmd())
		}
		return nil
	case stepWatchMsg:
		if msg.id != v.id || !v.watching {
			return nil
		}
		v.err = msg.err
		if msg.err == nil {
			v.status = msg.status()
		}
		if msg.done {
			v.watching = false
			if v.st.watchRuns {
				return v.submit()
			}
			return nil
		}
		id := v.id
		return tea.Tick(time.Second, func(time.Time) tea.Msg { return stepWatchTickMsg{id: id} })
	case retryTickMsg:
		if v.running {
			return nil
		}
		return v.retry.tick(msg, v.sh.now())
	case stepWatchTickMsg:
		if msg.id != v.id || !v.watching {
			return nil
		}
		return v.poll()
	case stepTickMsg:
		if msg.id != v.id {
			return nil
		}
		v.ticking = false
		v.settle()
		return tea.Batch(v.tickCmd(), v.focusCmd())
	case tea.KeyPressMsg:
		return v.key(msg)
	case tea.PasteMsg:
		if f := v.focused(); f != nil && f.kind == fieldCode && !v.running && v.counts(v.focus) {
			return v.typeCode(f, msg.Content)
		}
		if ti, ok := v.inputs[v.focus]; ok {
			cmd := v.caps[v.focus].update(ti, msg)
			v.typed(v.focus)
			return cmd
		}
		return nil
	}
	return spin(&v.spin, v.loading || v.running || v.pending > 0 || v.spinning(), msg)
}

func (v *stepView) key(msg tea.KeyPressMsg) tea.Cmd {
	if v.loading || v.running {
		return nil
	}
	if v.asking != nil {
		switch {
		case isKey(msg, "y", "Y", kEnter):
			return v.answer(true)
		case isKey(msg, "n", "N"):
			return v.answer(false)
		case isKey(msg, kEsc):
			v.asking = nil
		}
		return nil
	}
	if v.st == nil {
		switch {
		case v.loadErr != nil && v.retry.pending() && isKey(msg, "r", "R"):
			return v.retry.now()
		case v.loadErr != nil && isKey(msg, "r", "R"):
			return v.load()
		}
		return nil
	}
	if v.retry.pending() {
		switch {
		case isKey(msg, "r", "R"):
			return v.retry.now()
		case isKey(msg, "c", "C") && v.st.later != nil:
			return v.keepForLater()
		}
	}
	for _, k := range v.st.keys {
		switch {
		case !isKey(msg, k.key, strings.ToUpper(k.key)) || !k.works():
			continue
		case k.rerun:
			return v.startTasks()
		case k.action > 0 && k.action <= len(v.st.actions):
			return v.press(v.st.actions[k.action-1])
		}
		out := k.out
		v.done = &out
		return nil
	}
	f := v.focused()
	if f != nil && f.kind == fieldChecks {
		if cmd, ok := v.checksKey(f, msg); ok {
			return cmd
		}
	}
	if f != nil && f.kind == fieldCode {
		switch {
		case isKey(msg, kEnter) && v.stale[v.focus]:
			return nil // the refused code: a new one is typed first
		case isKey(msg, "backspace"):
			v.stale[v.focus] = false
			if d := v.vals[f.key]; d != "" {
				v.set(v.focus, d[:len(d)-1])
			}
			return nil
		case isKey(msg, "ctrl+u"):
			v.set(v.focus, "")
			return nil
		case len(msg.Text) == 1 && msg.Text[0] >= '0' && msg.Text[0] <= '9':
			return v.typeCode(f, msg.Text)
		}
	}
	switch {
	case f != nil && f.kind == fieldMenu && (isKey(msg, kUp, kDown, "k", "j") ||
		v.stops() == 1 && isKey(msg, kTab, kShiftTab, kLeft, kRight)):
		d := 1
		if isKey(msg, kUp, "k", kShiftTab, kLeft) {
			d = -1
		}
		v.menu[v.focus] = (v.menu[v.focus] + d + len(f.options)) % len(f.options)
		return nil
	case f != nil && f.kind == fieldMenu && f.hotkeys != nil:
		for j, k := range f.hotkeys {
			if isKey(msg, k, strings.ToUpper(k)) {
				v.menu[v.focus] = j
				return v.choose(f)
			}
		}
		if isKey(msg, kEnter) {
			return v.choose(f)
		}
		return nil
	case f != nil && f.kind == fieldMenu && len(msg.Text) == 1 && msg.Text[0] >= '0' && msg.Text[0] <= '9':
		if n := menuIndex(msg.Text[0]); n < len(f.options) {
			v.menu[v.focus] = n
			return v.choose(f)
		}
		return nil
	case f != nil && f.kind == fieldMenu && isKey(msg, kEnter):
		return v.choose(f)
	case f != nil && f.kind == fieldSpin && (isKey(msg, kLeft, kRight, kSpace) || len(msg.Text) == 1 && unicode.IsLetter(rune(msg.Text[0]))):
		n, at := len(f.options), max(v.vals.index(f.key), 0)
		switch {
		case isKey(msg, kLeft):
			at = (at - 1 + n) % n
		case isKey(msg, kRight, kSpace):
			at = (at + 1) % n
		default: // a letter: the next option whose code starts with it
			letter := strings.ToUpper(msg.Text)
			for j := 1; j <= n; j++ {
				if k := (at + j) % n; strings.HasPrefix(f.choices[k], letter) {
					at = k
					break
				}
			}
		}
		return v.choice(f, strconv.Itoa(at))
	case f != nil && f.kind == fieldChoice && (isKey(msg, kLeft, kRight, kSpace) ||
		v.stops() == 1 && isKey(msg, kUp, kDown, kTab, kShiftTab)): // the only field: every arrow chooses
		d := 1
		if isKey(msg, kLeft, kUp, kShiftTab) {
			d = -1
		}
		return v.choice(f, strconv.Itoa((max(v.vals.index(f.key), 0)+d+len(f.options))%len(f.options)))
	case f != nil && f.kind == fieldToggle && isKey(msg, kSpace, "x", kLeft, kRight):
		v.set(v.focus, onValue(!v.vals.on(f.key)))
		v.err = nil
		return nil

	case isKey(msg, kTab, kDown):
		return v.move(1)
	case isKey(msg, kShiftTab, kUp):
		return v.move(-1)
	case isKey(msg, kEnter) && !v.ready():
		return nil
	case isKey(msg, kEnter, kSpace) && v.focus >= v.firstAction() && v.focus-v.firstAction() < len(v.st.actions):
		return v.press(v.st.actions[v.focus-v.firstAction()])
	case isKey(msg, kEnter):
		if v.st.enterMoves && f != nil && v.st.check != nil && v.st.check(v.answers()) != nil {
			return v.move(1) // filled in from the top: on to the next field
		}
		return v.submit() // from any field, as every form of the wizard
	}
	if ti, ok := v.inputs[v.focus]; ok {
		v.err = nil
		before := ti.Value()
		cmd := v.caps[v.focus].update(ti, msg)
		v.touched = v.touched || ti.Value() != before
		v.typed(v.focus)
		return cmd
	}
	return nil
}

// choice takes the option value chosen in the field f, which has the
// focus (a choice or a spin): it may record it, and tell the host.
func (v *stepView) choice(f *field, value string) tea.Cmd {
	v.set(v.focus, value)
	v.err = nil
	if f.live != nil {
		f.live(v.sh, value)
	}
	if f.emit != nil {
		m := f.emit(value)
		return func() tea.Msg { return m }
	}
	return nil
}

// problem is the error to say for the last refusal (see step.problem).
func (v *stepView) problem() error {
	if v.st.problem != nil {
		return v.st.problem(v.err)
	}
	return v.err
}

// spinning reports whether the step says something it shows is at work.
func (v *stepView) spinning() bool { return v.st != nil && v.st.spinning != nil && v.st.spinning() }

// focused is the field with the focus; nil on a button.
func (v *stepView) focused() *field {
	if v.st == nil || v.focus >= len(v.st.fields) {
		return nil
	}
	return &v.st.fields[v.focus]
}

// typeCode takes digits typed or pasted into the code field f, which has
// the focus: after a refused code they start a new one; once the code is
// whole it is sent (auto) or the focus goes on.
func (v *stepView) typeCode(f *field, text string) tea.Cmd {
	d := v.vals[f.key]
	if v.stale[v.focus] {
		d, v.stale[v.focus] = "", false
	}
	for _, r := range text {
		if r >= '0' && r <= '9' && len(d) < flows.CodeLength {
			d += string(r)
		}
	}
	v.set(v.focus, d)
	v.note = flows.Text{} // what was said of the last code is past
	if len(d) < flows.CodeLength {
		return nil
	}
	if f.auto {
		return v.submit()
	}
	return v.move(1)
}

// checksKey handles a key on the checks field f, which has the focus; ok
// is false for a key it leaves to the step (enter).
func (v *stepView) checksKey(f *field, msg tea.KeyPressMsg) (cmd tea.Cmd, ok bool) {
	n, at := len(f.options), v.menu[v.focus]
	chosen := v.vals.checked(f.key)
	switch {
	case isKey(msg, kTab, kDown):
		if at == n-1 {
			return v.move(1), true
		}
		v.menu[v.focus]++
	case isKey(msg, kShiftTab, kUp):
		if at == 0 {
			return v.move(-1), true
		}
		v.menu[v.focus]--
	case isKey(msg, kLeft, kRight):
		// Two columns: left and right go across (in one, nowhere).
		if rows := checksRows(v.sh, *f); rows == n {
			break
		} else if at < rows {
			v.menu[v.focus] = min(at+rows, n-1)
		} else {
			v.menu[v.focus] = at - rows
		}
	case isKey(msg, kSpace, "x"):
		c := f.choices[at]
		if i := slices.Index(chosen, c); i >= 0 {
			chosen = slices.Delete(chosen, i, i+1)
		} else {
			chosen = append(chosen, c)
		}
		v.set(v.focus, checksValue(f.choices, chosen))
		v.err = nil
	case isKey(msg, "a", "A"):
		if len(chosen) == n {
			chosen = nil
		} else {
			chosen = f.choices
		}
		v.set(v.focus, checksValue(f.choices, chosen))
		v.err = nil
	default:
		return nil, false
	}
	return nil, true
}

// typed takes what is in the text field i now: live hints read it, and
// the field may record it.
func (v *stepView) typed(i int) {
	f := v.st.fields[i]
	v.vals[f.key] = v.inputs[i].Value()
	if f.live != nil {
		f.live(v.sh, fieldValue(f, v.inputs[i].Value()))
	}
}

// choose acts on a menu's entry.
func (v *stepView) choose(f *field) tea.Cmd {
	v.vals[f.key] = strconv.Itoa(v.menu[v.focus])
	return v.submit()
}

// ready reports whether enter may go on: the step says so, and none of
// its tasks is at work.
func (v *stepView) ready() bool {
	return v.pending == 0 && (v.st.ready == nil || v.st.ready())
}

// capturesText reports whether the focus is in a text field.
func (v *stepView) capturesText() bool {
	_, ok := v.inputs[v.focus]
	return ok && v.st != nil && !v.running
}

// Keys are the keys that work now.
func (v *stepView) Keys() []key.Binding {
	sh := v.sh
	if v.st == nil {
		switch {
		case v.loadErr != nil && v.retry.pending():
			return []key.Binding{sh.keyRetryNow()}
		case v.loadErr != nil:
			return []key.Binding{sh.keyRetry()}
		}
		return nil
	}
	if v.asking != nil {
		return []key.Binding{sh.bind("y", v.asking.yes, "y"), sh.bind("n", v.asking.no, "n")}
	}
	var ks []key.Binding
	if v.retry.pending() {
		ks = append(ks, sh.keyRetryNow())
		if v.st.later != nil {
			ks = append(ks, sh.bind("c", "key.later", "c"))
		}
	}
	f := v.focused()
	if f != nil {
		switch f.kind {
		case fieldMenu:
			if f.hotkeys != nil {
				for j, k := range f.hotkeys {
					ks = append(ks, sh.bind(k, f.hotkeyHelp[j], k, strings.ToUpper(k)))
				}
				return append(ks, sh.keyMove())
			}
			return []key.Binding{sh.bind("enter", "key.open", kEnter), sh.keyMove()}
		case fieldToggle:
			ks = append(ks, sh.keyToggle())
		case fieldChecks:
			ks = append(ks, sh.keyToggle())
		case fieldSpin:
			ks = append(ks, sh.keyChoose())
		case fieldCode:
			if f.auto {
				ks = append(ks, sh.bind("0-9", "key.type_code", "0"))
			}
		case fieldChoice:
			if f.keyHelp != "" {
				ks = append(ks, sh.bind("←/→", f.keyHelp, kLeft, kRight))
			} else {
				ks = append(ks, sh.keyChoose())
			}
		}
	}
	onCode := f != nil && f.kind == fieldCode && f.auto // a whole code sends itself: no enter
	if (v.st.submit != "" || v.st.run != nil) && v.ready() && !onCode {
		enter := []key.Binding{sh.bind("enter", cmp.Or(v.st.submitKey, "key.continue"), kEnter)}
		if i := v.focus - v.firstAction(); i >= 0 && i < len(v.st.actions) {
			switch a := v.st.actions[i].now(); {
			case a.wait:
				enter = nil
			case a.named:
				enter = []key.Binding{key.NewBinding(key.WithKeys(kEnter), key.WithHelp("enter", lowerFirst(a.label)))}
			default:
				enter = []key.Binding{sh.bind("enter", "key.activate", kEnter)}
			}
		}
		for _, k := range v.st.keys {
			if k.lead && k.works() {
				enter = append(enter, sh.bind(k.key, k.help, k.key, strings.ToUpper(k.key)))
			}
		}
		if v.retry.pending() {
			ks = append(ks[:1], append(enter, ks[1:]...)...) // r first, as every retry shows it
		} else {
			ks = append(enter, ks...)
		}
	}
	switch {
	case v.stops() > 1 && v.st.arrows:
		ks = append(ks, sh.keyMove())
	case v.stops() > 1:
		ks = append(ks, sh.keyNextField())
	}
	if f != nil && f.kind == fieldChecks {
		ks = append(ks, sh.bind("a", "key.all_none", "a"))
	}
	for _, k := range v.st.keys {
		if k.works() && !k.lead && (k.action == 0 || v.focus != v.firstAction()+k.action-1) {
			ks = append(ks, sh.bind(k.key, k.help, k.key, strings.ToUpper(k.key)))
		}
	}
	return ks
}

// View renders the page's body.
func (v *stepView) View() string {
	sh := v.sh
	if v.st == nil {
		intro := ""
		if v.loadIntro != nil {
			intro = v.loadIntro() + "\n\n"
		}
		switch {
		case v.loadErr != nil && v.retry.pending():
			return intro + errorView(sh, v.loadErr) + "\n\n  " + v.retry.line(sh)
		case v.loadErr != nil:
			return intro + errorView(sh, v.loadErr) + "\n\n" + sh.paragraph(sh.st.Muted, sh.T("hub.load_retry"), 0)
		}
		return intro + sh.busyLine(v.spin, sh.T(cmp.Or(v.loadBusy, "hub.loading")))
	}
	var b strings.Builder
	if v.st.body != nil {
		if body := v.st.body(sh.bodyWidth()); body != "" {
			b.WriteString(body + "\n\n")
		}
	}
	if v.st.watch != nil && v.status != "" {
		line := v.status
		if v.watching {
			line = v.spin.View() + " " + line
		}
		b.WriteString(sh.paragraph(sh.st.Text, line, 2) + "\n\n")
	}
	lw := v.labelWidth()
	tw := v.widthOf(fieldToggle) // the switches' on/off words stand in one column
	for i, f := range v.st.fields {
		if !v.visible(i) {
			continue
		}
		focused := i == v.focus
		switch f.kind {
		case fieldText, fieldSecret:
			b.WriteString(sh.fieldLine(f.label, lw, focused, v.inputs[i].View()) + "\n")
			b.WriteString(v.statusLine(i, lw))
			if f.aside != "" {
				b.WriteString(sh.noteLine(lw, sh.st.Muted, f.aside) + "\n")
			}
			if note := v.caps[i].note(sh); note != "" && focused {
				b.WriteString(sh.noteLine(lw, sh.st.Warn, note) + "\n")
			}
			if from := f.fromNote(v.vals, v.began); from != "" {
				b.WriteString(sh.noteLine(lw, sh.st.Muted, from) + "\n")
			}
		case fieldToggle:
			b.WriteString(sh.withNote(sh.toggleView(f.label, tw, v.vals.on(f.key), focused), f.fromNote(v.vals, v.began)) + "\n")
			if f.note != nil {
				b.WriteString("      " + f.note(v.vals) + "\n")
			}
		case fieldChoice:
			line := sh.fieldLine(f.label, lw, focused, sh.choiceView(f.options, max(v.vals.index(f.key), 0), focused))
			b.WriteString(sh.withNote(line, f.fromNote(v.vals, v.began)) + "\n")
		case fieldCode:
			view := codeBoxes(sh, v.vals[f.key], focused && f.counts(v.vals))
			if !f.counts(v.vals) {
				view = sh.st.ButtonOff.Render(ansi.Strip(view))
			}
			b.WriteString(sh.fieldLine(f.label, lw, focused, view) + "\n")
			b.WriteString(v.statusLine(i, lw))
		case fieldSpin:
			at := max(v.vals.index(f.key), 0)
			st := sh.st.Text
			if focused {
				st = sh.st.Selected
			}
			line := sh.fieldLine(f.label, lw, focused, st.Render("‹ "+f.options[at]+" ›"))
			b.WriteString(sh.withNote(line, f.fromNote(v.vals, v.began)) + "\n")
		case fieldChecks:
			b.WriteString(checksView(sh, f, v.vals, f.fromNote(v.vals, v.began), focused, v.menu[i], f.counts(v.vals)) + "\n")
			if f.note != nil {
				b.WriteString("      " + f.note(v.vals) + "\n")
			}
		case fieldMenu:
			if f.label != "" {
				b.WriteString(sh.paragraph(sh.st.Text, f.label, 0) + "\n")
			}
			if f.details != nil {
				if f.label != "" {
					b.WriteString("\n") // the question stands apart from the entries
				}
				b.WriteString(detailedMenu(sh, f, focused, v.menu[i]))
				continue
			}
			for j, o := range f.options {
				b.WriteString(menuLine(sh, j, o, focused && j == v.menu[i]) + "\n")
			}
		}
	}
	for _, f := range v.st.fields {
		switch {
		case f.hint != nil && f.tight:
			b.WriteString(f.hint(v.vals) + "\n")
		case f.hint != nil:
			b.WriteString("\n" + f.hint(v.vals) + "\n")
		}
	}
	if q := v.asking; q != nil {
		text := sh.st.Title.Render(q.title) + "\n" + sh.wrapBox(q.body) + "\n" +
			sh.st.Key.Render("y") + " " + sh.T(q.yes) + "   " + sh.st.Key.Render("n") + " " + sh.T(q.no)
		b.WriteString("\n" + sh.st.Box.Width(sh.bodyWidth()).Render(text))
		return b.String()
	}
	if v.st.submit != "" || len(v.st.actions) > 0 {
		var buttons []string
		if v.st.submit != "" {
			buttons = append(buttons, sh.buttonView(v.st.submit, v.focus == len(v.st.fields), !v.running))
		}
		for i, a := range v.st.actions {
			a = a.now()
			buttons = append(buttons, sh.buttonView(a.label, v.focus == v.firstAction()+i, !v.running && !a.wait))
		}
		sep := " "
		if v.st.stack {
			sep = "\n"
		}
		b.WriteString("\n" + strings.Join(buttons, sep) + "\n")
	}
	if v.st.foot != nil && v.st.keepFoot {
		b.WriteString("\n" + v.st.foot() + "\n")
	}
	// What follows stands one blank line apart, also right under the
	// body of a step that asks nothing (the summary).
	if !strings.HasSuffix(b.String(), "\n\n") {
		b.WriteString("\n")
	}
	switch {
	case v.running && v.busy != "":
		b.WriteString(sh.busyLine(v.spin, v.busy))
	case v.err != nil && v.problem() != nil:
		b.WriteString(errorView(sh, v.problem()))
		if v.retry.pending() {
			b.WriteString("\n  " + v.retry.line(sh))
			if v.st.later != nil {
				b.WriteString("\n  " + sh.paragraph(sh.st.Muted, sh.T("retry.later"), 2))
			}
		}
	case v.warn != "":
		b.WriteString(sh.paragraph(sh.st.Warn, v.warn, 0))
	case !v.note.IsZero():
		b.WriteString(sh.st.OK.Render(markOK+" ") + sh.paragraph(sh.st.OK, sh.Text(v.note), 2))
	case v.st.foot != nil && !v.st.keepFoot:
		b.WriteString(v.st.foot())
	}
	return strings.TrimRight(b.String(), "\n")
}

// statusLine is the line under the field i that says what its value
// means (see field.status), with its line break; "" when it has none or
// says nothing without a gap kept for it.
func (v *stepView) statusLine(i, lw int) string {
	f := v.st.fields[i]
	if f.status == nil {
		return ""
	}
	st, text := f.status(v.vals, i == v.focus, v.left[i])
	if text == "" && !f.statusGap {
		return ""
	}
	return v.sh.noteLine(lw, st, text) + "\n"
}

// checksCell is the width of a cell of a checks field: the pointer, the
// box and the widest option, and a gap.
func checksCell(f field) int { return 2 + labelWidth(f.options...) + 6 }

// checksRows is how many rows the options of a checks field take: half of
// them, in two columns, when two cells fit the body's width beside the
// field's indent; all of them, in one column, when they do not (long
// options in a narrow window: "Gallery: 3 items, 85.8 MB" in Chinese at
// 60 columns lost its unit).
func checksRows(sh *shared, f field) int {
	n := len(f.options)
	if 4+2*checksCell(f) > sh.bodyWidth() {
		return n
	}
	return (n + 1) / 2
}

// checksView draws a checks field: its label (with note beside it, ""
// when none), then its options in two columns (one when two do not fit),
// the one at the cursor marked while the field has the focus; all dimmed
// when it does not count.
func checksView(sh *shared, f field, vals values, note string, focused bool, cursor int, counts bool) string {
	n := len(f.options)
	half := checksRows(sh, f)
	colW := checksCell(f) - 2
	chosen := vals.checked(f.key)
	cell := func(i int) string {
		box := "[ ]"
		if slices.Contains(chosen, f.choices[i]) {
			box = "[x]"
		}
		p, st := "  ", sh.st.Text
		switch {
		case !counts:
			st = sh.st.Muted
		case focused && i == cursor:
			p, st = sh.st.LabelOn.Render(pointer)+" ", sh.st.Selected
		}
		return p + st.Render(padRight(box+" "+f.options[i], colW))
	}
	var b strings.Builder
	b.WriteString("    " + sh.withNote(sh.st.Label.Render(f.label), note) + "\n")
	for r := range half {
		b.WriteString("    " + cell(r))
		if r+half < n {
			b.WriteString(cell(r + half))
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// menuIndex is the entry a digit key opens: 1 the first, 0 the tenth.
func menuIndex(digit byte) int {
	if digit == '0' {
		return 9
	}
	return int(digit - '1')
}

// detailedMenu draws a menu whose entries say more beside them: the
// entries' titles in a column, what each means wrapped beside it, a blank
// line between entries.
func detailedMenu(sh *shared, f field, focused bool, chosen int) string {
	lw := labelWidth(f.options...)
	var b strings.Builder
	for j, o := range f.options {
		p, st := "  ", sh.st.Text
		if focused && j == chosen {
			p, st = sh.st.LabelOn.Render(pointer)+" ", sh.st.Selected
		}
		if j > 0 {
			b.WriteString("\n")
		}
		b.WriteString(p + st.Render(padRight(o, lw)) + sh.paragraph(sh.st.Muted, f.details[j], 2+lw) + "\n")
	}
	return b.String()
}

// menuLine is one entry of a menu: its number (the key that opens it: 1
// to 9, then 0 for the tenth) and its label, the chosen one marked.
func menuLine(sh *shared, i int, label string, chosen bool) string {
	var n string
	switch {
	case i < 9:
		n = strconv.Itoa(i+1) + ". "
	case i == 9:
		n = "0. "
	default:
		n = "   " // arrows reach it
	}
	indent := 2 + len(n)
	if chosen {
		return sh.st.LabelOn.Render(pointer+" "+n) + sh.paragraph(sh.st.Selected, label, indent)
	}
	return "  " + sh.st.Muted.Render(n) + sh.paragraph(sh.st.Text, label, indent)
}
