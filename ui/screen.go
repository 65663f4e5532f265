package ui

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"misetup/api"
	"misetup/assets"
	"misetup/flows"
	"misetup/flows/micloud"
)

// Screen is one wizard step. Screens return strings; only App builds a
// tea.View. A screen never quits the program: it asks App with a message.
type Screen interface {
	// Init starts what the screen needs each time it is shown.
	Init() tea.Cmd
	// Update handles a message. Key presses reach only the shown screen;
	// other messages (results of calls, ticks) reach every live screen, so
	// a result that arrives after esc still lands where it belongs.
	Update(tea.Msg) (Screen, tea.Cmd)
	// View renders the body, at most sh.bodyWidth() wide.
	View() string
	// Keys are the keys that work now, for the footer.
	Keys() []key.Binding
}

// textCapturer is a screen whose focused widget takes typed text, so App
// leaves printable keys such as ? to it.
type textCapturer interface {
	CapturesText() bool
}

// titler is a screen whose header is not its step's title at the moment
// (the code screen once the account exists); "" keeps the step's.
type titler interface {
	Title() string
}

// backBlocker is a screen that handles esc itself (e.g. to close a panel).
type backBlocker interface {
	HandlesBack() bool
}

// Deps is what the wizard needs from outside: flows interfaces (which
// *client.Client satisfies; main wires them), where state is kept, and the
// system facts. ui never imports client.
type Deps struct {
	Accounts flows.Accounts
	Manager  flows.Manager // the account hub's calls
	Cloud    flows.Cloud
	Checker  flows.Checker
	Progress flows.ProgressStore
	Sessions flows.SessionStore
	System   flows.System
	// DeviceID returns this machine's stable device id.
	DeviceID func() (string, error)
	// Start opens the account service (the embedded one is slow to open); it
	// is called after the first frame. nil when there is nothing to open.
	Start func(ctx context.Context) error
	// Interrupt delivers ctrl+c to plain mode (SIGINT: the terminal is not
	// raw there); nil when there is none. The full-screen wizard reads
	// ctrl+c as a key.
	Interrupt <-chan struct{}
	// Handoffs make a kiosk's "Type it on your phone" links; nil when
	// this wizard cannot offer them.
	Handoffs flows.Handoffs
	// Restore brings a device that signs in the account's Mi Cloud
	// backups ("Restore from Mi Cloud"); nil where nothing is restored (a
	// kiosk).
	Restore Restorer
	// Drill is Find Device's "Test it now": it rings this device through
	// the service and returns the round trip; nil when it cannot run here.
	Drill func(ctx context.Context) (time.Duration, error)
	// Now is the clock (time.Now when nil); tests pin it.
	Now func() time.Time
	// CacheDir is misetup's cache dir: the sync settings' cached copy, and
	// what troubleshooting's "clear cache and retry" empties. "" when none.
	CacheDir string
	// StateDir is misetup's state dir: where the last challenge is
	// remembered (for `misetup doctor`) and support case files go. "" when
	// none (nothing is written).
	StateDir string
}

// Options are the wizard's settings.
type Options struct {
	// Lang is the language the person asked for (--lang, MISETUP_LANG, the
	// config file): it beats everything. "" when not asked.
	Lang string
	// Locale is the environment's POSIX locale (LC_ALL, LC_MESSAGES,
	// LANG): the language when neither Lang nor a saved choice says one,
	// and the phone picker's default country.
	Locale  string
	Timeout time.Duration // per call to the service; 15 s when 0
	Server  string        // the service's URL, "" for the built-in one (shown in texts)
	// PublicURL is the service's public address (its config's
	// public_url): where its web portal is, and what makes a kiosk offer
	// "Type it on your phone". It answers "" when there is none, or
	// until the service has said (a kiosk asks it beside its first
	// screens); nil: none.
	PublicURL func() string
	// Version is this build's version.
	Version string
	// Hub opens the account hub (misetup account) instead of the wizard.
	Hub bool
	// Kiosk is kiosk mode; nil for a personal device.
	Kiosk *Kiosk
	// Defaults are the store's answers, pre-filled and marked as the
	// store's; nil when none (defaults.go).
	Defaults *Defaults
}

// language is the wizard's language: the one asked for (Options.Lang),
// else the one the person chose in a saved run (progress, "" when none),
// else the store's default, else the locale's, else English. A person's
// explicit choice beats the store's, which beats the environment's locale.
func language(opts Options, saved string) string {
	var store string
	if opts.Defaults != nil {
		store = opts.Defaults.Lang
	}
	return firstNonEmpty(assets.MatchLanguage(opts.Lang), assets.MatchLanguage(saved),
		assets.MatchLanguage(store), assets.MatchLanguage(opts.Locale), assets.DefaultLanguage)
}

// wizardState is the answers and facts shared by the steps.
type wizardState struct {
	Method     string // api.MethodEmail or api.MethodPhone
	Identifier string // as typed (registration or sign-in)
	Region     string // the phone picker's country
	Device     flows.DeviceInfo
	DeviceID   string
	Network    flows.NetworkKind
	Iface      string // the network's interface (eth0, wlan0)
	// Checks are the requirement checks' findings by check, as they come
	// in; nil before the first round.
	Checks map[string]flows.Finding

	// CommonRefused is the password the service refused as a common one
	// when creating the account, so the checklist marks it; in memory
	// only, never saved.
	CommonRefused string
	// Registration is the registration sent last, sent again for a new
	// code (plain mode); in memory only, never saved.
	Registration *flows.Registration

	Challenge      *api.Challenge // the registration's pending challenge
	ResetChallenge *api.Challenge
	// Code and ResetCode are what the code steps know of the code of
	// Challenge and ResetChallenge (see codeState); a new challenge starts
	// them again.
	Code, ResetCode codeState
	ResetDone       bool // a reset finished: sign-in says so
	// HandoffPurpose is what the kiosk's hand-off is for
	// (api.PurposeRegistration or api.PurposeSignIn).
	HandoffPurpose string
	// Backups are what the account has in Mi Cloud for this device's
	// folders, read when Mi Cloud was saved; nil when none.
	Backups []micloud.Backup
	// Restored are the backups this run brought to the device, for the
	// summary; nil when none.
	Restored []micloud.Backup
	// LastSignIn is the last failed sign-in of this run and its answer, for
	// troubleshooting; nil when none, or once signed in or reset.
	LastSignIn *flows.SignInAttempt

	Account    *api.Account // signed in when non-nil
	NewAccount bool         // the account was created in this run
	Sync       *api.SyncSettings
	Storage    *api.Storage
	FindDevice *bool
	// FindDeviceQueued and SyncQueued: the choice could not reach the
	// service and waits on disk to be saved.
	FindDeviceQueued, SyncQueued bool

	Resume     *flows.Progress // saved progress offered on the welcome screen
	ResumeStep flows.Step
	// CheckingSaved: saved progress was found and its session is being
	// checked, before the welcome offers to resume.
	CheckingSaved bool
	// Locked is the owner's lock of this device (a Find Device lock
	// command carried out here); nil when not locked.
	Locked *flows.LockInfo
	// Finished is true once the set-up was finished, in this run or a
	// saved one: the saved progress says so from then on, so a later run
	// offers to review it rather than to resume an interruption.
	Finished bool
}

// shared is what every screen reads: deps, the language, styles, size and
// the answers. It lives on the event loop: Cmds copy what they need first.
type shared struct {
	ctx   context.Context
	deps  Deps
	opts  Options
	tr    *assets.Catalog
	st    Styles
	stGen int // counts changes of st, for what is kept drawn (memos)

	width, height int
	wiz           wizardState

	checklist struct { // the last password checklist drawn
		in   checklistMemo
		view string
	}
}

func (sh *shared) now() time.Time {
	if sh.deps.Now != nil {
		return sh.deps.Now()
	}
	return time.Now()
}

func (sh *shared) timeout() time.Duration {
	if sh.opts.Timeout > 0 {
		return sh.opts.Timeout
	}
	return 15 * time.Second
}

// callCtx is the context of one call to the service.
func (sh *shared) callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(sh.ctx, sh.timeout())
}

// bodyWidth is the width screens render at.
func (sh *shared) bodyWidth() int {
	w := min(sh.width, designWidth) - 2*marginX
	return max(w, minWidth-2*marginX)
}

// bodyHeight is the number of lines a screen's body has: the window less
// the header, its rule, a blank line and the footer.
func (sh *shared) bodyHeight() int {
	h := sh.height
	if h == 0 {
		h = 24
	}
	return h - 4
}

// T translates.
func (sh *shared) T(key string, args ...any) string { return sh.tr.T(key, args...) }

// Text translates a flows.Text.
func (sh *shared) Text(t flows.Text) string { return sh.renderText(t) }

// Layout sizes.
const (
	designWidth = 80
	minWidth    = 60
	minHeight   = 20
	marginX     = 2
)
