package ui

import (
	"context"
	"slices"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"misetup/api"
	"misetup/flows"
)

// step is one description of a step: the text it shows, the fields it
// asks, and the action it runs. It is written once and drawn twice: full
// screen by stepView, as plain prompts by plain.runPage. The hub's pages
// are steps.
type step struct {
	// title is the page's title (the header on the full screen, a heading
	// in plain mode).
	title string
	// body is the text above the fields, drawn at the width given (it may
	// change from one frame to the next: a checkup, a QR code, bars). nil
	// when none.
	body func(width int) string
	// fields are asked in order.
	fields []field
	// submit is the button's label; "" when the step has none (a menu acts
	// when an entry is chosen, an information page only goes back).
	submit string
	// submitKey is the catalog key of what enter does, for the footer
	// ("key.save"); "" for "continue".
	submitKey string
	// actions are more buttons beside submit ("Test it now"), each with
	// its own action; plain mode offers them once the fields are asked
	// (or, marked after, once the step's action was refused).
	actions []action
	// foot is a line under the buttons while nothing runs and nothing
	// failed (a tip); nil when none. With keepFoot it stays, and what
	// runs or failed shows under it.
	foot     func() string
	keepFoot bool
	// later keeps what was chosen for later and goes on, when the service
	// cannot be reached and the person would rather not wait (queued
	// settings, key c); nil when a step cannot. Meanwhile the action is
	// tried again by itself, as every call that could not reach the
	// service is.
	later func(v values) (outcome, error)
	// busy says what happens while run works ("Saving…").
	busy string
	// instant says run calls nothing (a menu that only leads somewhere):
	// it runs at once, on the event loop, without a frame of waiting.
	instant bool
	// footKeys says foot speaks of keys: plain mode, which has none, does
	// not say it.
	footKeys bool
	// keepSecrets: what was typed in the password fields stays when the
	// step is shown again (the create form, come back to for a new code);
	// elsewhere a password is typed again.
	keepSecrets bool
	// enterMoves: enter on a field goes on to the next one until the
	// values pass check (a form filled in from the top); from the button,
	// or once they pass, it runs the action.
	enterMoves bool
	// arrows: the footer says the focus moves with ↑/↓ (a list of
	// switches), not tab/↓ (a form).
	arrows bool
	// stack draws the buttons one under another (sign-in's "Sign in" and
	// "Forgot password?"), not side by side.
	stack bool
	// start is the key of the field the focus starts on; "" the first.
	start string
	// failed records a refusal of run in the answers (sign-in keeps the
	// last failure for troubleshooting), on the event loop or plain
	// mode's goroutine; nil when none.
	failed func(sh *shared, v values, err error)
	// check validates the values before run, at once (no call): an error
	// names what to fix. nil when run checks everything.
	check func(v values) error
	// run is the step's action, run off the event loop with the values
	// asked. nil for an information page.
	run func(ctx context.Context, v values) (outcome, error)
	// keys are more keys of the step, each leading somewhere (a on the
	// summary: the account hub) or running its tasks again (r on the
	// requirements). Plain mode, which has no keys, does not offer them.
	keys []stepKey
	// tasks are the step's work, all started at once when it is first
	// shown, each off the event loop (the requirement checks); each
	// result records itself in the answers, on the event loop, and the
	// step is drawn again. tasks is called each time they start, on the
	// event loop. nil when none.
	tasks func() []func(ctx context.Context) func(sh *shared)
	// ran says whether the tasks already ran (their results are kept):
	// the step shown again does not start them. nil: never.
	ran func() bool
	// ready says whether enter may go on (the checks passed); nil:
	// always. In plain mode a step not ready after its tasks asks again
	// (its question): yes runs them again, no quits.
	ready func() bool
	again string
	// frame is the spinner of the view drawing the step, for a body that
	// shows its tasks at work; set by stepView, nil in plain mode.
	frame func() string
	// refresh reads, when the step is shown, what its body shows that
	// this run did not choose (a resumed summary's saved choices); what
	// it returns records it in the answers, on the event loop, and the
	// step is drawn again. nil when none.
	refresh func(ctx context.Context) func(sh *shared)
	// watch is a live status polled about once a second until it says
	// done (a Find Device command on its way to the device); nil when
	// none. It runs off the event loop; status makes its text on it.
	watch func(ctx context.Context) (status func() string, done bool, err error)
	// watchRuns: once the watch says done, the step's action runs by
	// itself (the phone finished a kiosk's hand-off: the kiosk goes on).
	watchRuns bool
	// tick says whether the step shows something that changes with the
	// time (a countdown, a code about to expire): the view is drawn again
	// each second while it does, and the focus leaves a field that no
	// longer counts. nil: never.
	tick func() bool
	// problem is the error to say under the buttons for err, the last
	// refusal (nil: what the step shows says it already, as a dead code's
	// lines do); nil: err itself.
	problem func(err error) error
	// about names what the step is about (a code step: its challenge, as
	// last sent): described again about something else, it starts afresh
	// instead of keeping what was typed.
	about string
	// header, when not "", stands in the wizard's header instead of the
	// step's title ("Account created").
	header string
	// noBack: esc does not go back from here (a code already used).
	noBack bool
	// spinning says whether something the step shows is at work (the
	// welcome checking a saved session): the view's spinner turns
	// meanwhile; nil: never.
	spinning func() bool
	// restate: the step is described again when what the wizard knows
	// about this run changes (its saved progress, the session, the lock).
	restate bool
	// ask is a question the values call for before run (Wi-Fi only on a
	// device where nothing would then sync); nil when none is needed.
	// Answered yes, it is not asked again until its field changes.
	ask func(v values) *question
}

// question is asked before a step's action, when its values call for it:
// yes runs the action as chosen, no changes the values first (no) and
// runs it. Full screen, title and body stand in a box in place of the
// buttons, with the keys y and n; plain mode says say and asks title.
type question struct {
	title, body, say string
	// yes and no are the footer's catalog keys of the two answers.
	yes, no string
	// about is the field the question is about: changing it asks again.
	about string
	// change is what no does to the values.
	change func(v values)
}

// fieldKind is how a field is asked.
type fieldKind int

const (
	fieldText   fieldKind = iota // a line of text
	fieldSecret                  // a password: not echoed
	fieldToggle                  // on or off
	fieldChoice                  // one of options, side by side
	fieldMenu                    // one of options, listed down; choosing one acts at once
	fieldChecks                  // some of options, each on or off, in two columns
	fieldSpin                    // one of many options, the chosen one shown between ‹ ›
	fieldCode                    // a verification code: digits, one box each
)

// field is one question of a step.
type field struct {
	key         string // its name in values
	kind        fieldKind
	label       string
	placeholder string
	limit       int      // characters; 0 for the default
	options     []string // fieldChoice's and fieldMenu's entries
	// details say more about each menu entry, beside it; nil when none.
	details []string
	// hotkeys choose a menu's entries by a letter ("s" sign in, "c"
	// create) instead of their numbers; hotkeyHelp are their footer
	// texts' catalog keys.
	hotkeys, hotkeyHelp []string
	value               string // the starting value ("1" for a toggle that starts on)
	// hint is a live text under the fields, from the values typed so far
	// (the password checklist); nil when none.
	hint func(v values) string
	// note is a live line right under the field (what its value means);
	// nil when none.
	note func(v values) string
	// from says where the starting value came from ("(set by the
	// store)"), shown beside the field while its value is still that one;
	// "" when the wizard chose it.
	from string
	// aside is a line under a text field saying what it takes; "" when
	// none.
	aside string
	// on are the error keys that name this field besides the error's own
	// Field: an error naming a field puts the focus on it, reveals it when
	// hidden and, with retype, empties it.
	on     []string
	retype bool
	// live records the value in the answers as it is typed (the sign-in's
	// identifier: kept when the person quits, offered by "Forgot
	// password?"); nil when none.
	live func(sh *shared, value string)
	// hidden fields are neither drawn nor asked until an error names them
	// (sign-in's two-step code); their key is absent from the values.
	hidden bool
	// choices are what a checks field's options stand for: its value is
	// the chosen ones, joined by commas in the options' order. A spin
	// field's are its options' codes: a letter jumps to the next code
	// that starts with it.
	choices []string
	// only says whether the field is part of the step with the values v
	// (the country, for a phone number): otherwise it is neither drawn nor
	// asked, and its key is absent from the values. nil: always.
	only func(v values) bool
	// status is a line always under a text field (blank when it says
	// nothing): what the value typed means, or what is wrong with it,
	// given whether the field has the focus and was left once. nil when
	// none.
	status func(v values, focused, left bool) (lipgloss.Style, string)
	// hintLead introduces the hint where it is read apart from the fields,
	// in plain mode ("Your password needs:"); "" when none.
	hintLead string
	// rule: the placeholder says a rule the value must meet ("at least 8
	// characters"); plain mode, which shows no placeholder, says it with
	// the question.
	rule bool
	// statusGap: a blank line stands for the status while it says nothing
	// (the lines below stay where they are as it comes and goes).
	statusGap bool
	// auto: a code field, once whole, runs the step's action; otherwise
	// the focus goes on to the next field.
	auto bool
	// prompt is the question in plain mode, when the label alone would not
	// say enough ("Code (6 digits; r sends a new code, ? if it did not
	// arrive)"); "" to ask the label.
	prompt string
	// shortcuts are answers of plain mode that press a button of the step
	// instead (r: "Resend code"), by the action's number from 1.
	shortcuts map[string]int
	// tight draws the hint right under the fields, with no blank line
	// between (the password checklist under the password fields).
	tight bool
	// off says whether the field counts now (what to sync, while sync is
	// off): drawn dimmed, passed over by the focus, not asked in plain
	// mode; nil: always.
	off func(v values) bool
	// keyHelp is the footer's catalog key for changing a choice field
	// ("key.language"); "" for "choose".
	keyHelp string
	// emit is a message the host is told each time the field's value
	// changes on the full screen (the language: every screen speaks it
	// from then on); nil when none. live records it in plain mode too.
	emit func(value string) tea.Msg
	// fromWith are fields whose starting values the from note needs too
	// (what to sync is the store's while sync is still as the store set
	// it).
	fromWith []string
}

// names reports whether the error ue names the field: by its key, or by
// one of its on (an error key, or the service's name of the field).
func (f field) names(ue *flows.UserError) bool {
	return ue != nil && (ue.Field != "" && (ue.Field == f.key || slices.Contains(f.on, ue.Field)) || slices.Contains(f.on, ue.Key))
}

// part reports whether the field is part of the step with the values v
// (see only).
func (f field) part(v values) bool { return f.only == nil || f.only(v) }

// fromNote is f's from while its value, and those of its fromWith, are
// still the starting ones (start holds them); "" otherwise.
func (f field) fromNote(v, start values) string {
	if f.from == "" || v[f.key] != f.value {
		return ""
	}
	for _, k := range f.fromWith {
		if v[k] != start[k] {
			return ""
		}
	}
	return f.from
}

// counts reports whether the field counts with the values v (see off).
func (f field) counts(v values) bool { return f.off == nil || !f.off(v) }

// checked lists the choices of a checks field's value.
func (v values) checked(key string) []string {
	if v[key] == "" {
		return nil
	}
	return strings.Split(v[key], ",")
}

// checksValue is the value of a checks field with chosen on: its choices
// in their order.
func checksValue(choices, chosen []string) string {
	var on []string
	for _, c := range choices {
		if slices.Contains(chosen, c) {
			on = append(on, c)
		}
	}
	return strings.Join(on, ",")
}

// stepKey is a key of a step besides enter, with where it leads.
type stepKey struct {
	key  string // as typed; its capital works too
	help string // the footer's catalog key
	out  outcome
	// rerun runs the step's tasks again instead of leading anywhere.
	rerun bool
	// action is the step's action (1 for the first) the key presses; it
	// is not shown while the focus is on that button.
	action int
	// when says whether the key works now; nil: always.
	when func() bool
	// lead puts the key in the footer right after enter, before the
	// fields' keys.
	lead bool
}

func (k stepKey) works() bool { return k.when == nil || k.when() }

// action is a button of a step besides its submit.
type action struct {
	label string
	busy  string
	run   func(ctx context.Context, v values) (outcome, error)
	// on are the error keys that put the focus on this button (a locked
	// account: "Forgot password?").
	on []string
	// after: plain mode offers it after the step's action was refused
	// ("Try again" or "Forgot password?"), not before it runs.
	after bool
	// live, when set, says what the button is now: its label, whether it
	// waits and what it runs follow a countdown or a condition ("Resend
	// code in 0:42", "Send a new code"). Read on the event loop.
	live func() action
	// wait: the button cannot be pressed now (drawn dimmed).
	wait bool
	// instant: its run calls nothing (it leads somewhere) and runs on the
	// event loop.
	instant bool
	// named: enter in the footer says what it does in its label's words
	// ("enter send a new code"), not "press".
	named bool
	// first: plain mode offers it before the fields, not after them ("Type
	// it on your phone": the point is not to type them here).
	first bool
}

// now is what the button is now (see live).
func (a action) now() action {
	if a.live != nil {
		return a.live()
	}
	return a
}

// values are a step's answers by field key: text as typed, a toggle "1"
// or "", a menu its entry's index.
type values map[string]string

func (v values) text(key string) string { return v[key] }
func (v values) on(key string) bool     { return v[key] == "1" }

// index is a menu's chosen entry; -1 when none.
func (v values) index(key string) int {
	i, err := strconv.Atoi(v[key])
	if err != nil {
		return -1
	}
	return i
}

func onValue(on bool) string {
	if on {
		return "1"
	}
	return ""
}

// outcome is what a step's action leads to.
type outcome struct {
	// next is the page to show next (pushed: esc comes back here); nil to
	// stay.
	next page
	// replace shows next in place of this page: esc from it skips this
	// one (a form whose work is done).
	replace bool
	// back goes back this many pages, each reloaded (0 stays).
	back int
	// note says what happened ("Saved."), shown on the page that is shown
	// next.
	note flows.Text
	// quit leaves the hub.
	quit bool
	// to is the wizard step to go to (a step of the wizard, not a hub
	// page); the zero value, the welcome, is never a next step, so it
	// means none.
	to flows.Step
	// apply records the outcome in the wizard's answers, on the event
	// loop (or plain mode's one goroutine); nil when nothing to record.
	apply func(sh *shared)
	// resetTo leaves no way back into the steps before to (signed in:
	// esc does not return to the sign-in).
	resetTo bool
	// redo describes the step again and stays on it (a new code sent,
	// the account created): the note shows on it.
	redo bool
	// msg is a message for the wizard itself (resume a saved run, start
	// over); nil when none.
	msg tea.Msg
	// sent is a code the service just sent: kept in the state dir for
	// the code diagnosis and misetup doctor, and announced to the screens
	// waiting for it; nil when none.
	sent *api.Challenge
}

// page reads what a step needs to show from the service (a hub page), off
// the event loop, and again when the person comes back to it, so it is
// never stale. build makes the step from it on the event loop (its texts
// are in the language shown).
type page func(ctx context.Context) (build func() *step, err error)

// staticPage is a page that reads nothing.
func staticPage(build func() *step) page {
	return func(context.Context) (func() *step, error) { return build, nil }
}

// fieldValue is what a text field's answer counts as: trimmed, but a
// password exactly as typed.
func fieldValue(f field, typed string) string {
	if f.kind == fieldSecret {
		return typed
	}
	return strings.TrimSpace(typed)
}
