package flows

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"misetup/api"
)

// Problem is one of the four problems of the guide's troubleshooting
// section (GUIDE section 9). Each has a diagnosis that looks at the real
// state and says what it found.
type Problem int

// The guide's four problems, in its order.
const (
	ProblemCode       Problem = iota // verification code not received
	ProblemSignIn                    // can't sign in, or the account is locked
	ProblemSync                      // sync not working
	ProblemLostAccess                // lost access to the linked phone or email
)

// Problems lists the problems in the guide's order.
func Problems() []Problem {
	return []Problem{ProblemCode, ProblemSignIn, ProblemSync, ProblemLostAccess}
}

// String is the problem's name as used in catalog keys ("ts.problem.<name>").
func (p Problem) String() string {
	switch p {
	case ProblemCode:
		return "code"
	case ProblemSignIn:
		return "sign_in"
	case ProblemSync:
		return "sync"
	case ProblemLostAccess:
		return "lost_access"
	}
	return "unknown"
}

// ProblemFor is the problem troubleshooting opens on when it is asked for
// from step s: the code screens open the code diagnosis, the sign-in and
// reset screens the sign-in one, Mi Cloud the sync one. ok is false for the
// other steps (show the list of problems).
func ProblemFor(s Step) (p Problem, ok bool) {
	switch s {
	case StepCode, StepResetCode:
		return ProblemCode, true
	case StepSignIn, StepReset:
		return ProblemSignIn, true
	case StepSync:
		return ProblemSync, true
	}
	return 0, false
}

// Action is a fix a diagnosis offers, done in place by the troubleshooter.
type Action string

// Actions the diagnoses offer.
const (
	ActionResend           Action = "resend"            // ask for a new code
	ActionChangeAddress    Action = "change_address"    // start over with another email or phone
	ActionCheckAgain       Action = "check_again"       // run the diagnosis again
	ActionUseSuggestion    Action = "use_suggestion"    // take the corrected identifier
	ActionForgotPassword   Action = "forgot_password"   // reset the password (it unlocks too)
	ActionSignIn           Action = "sign_in"           // sign in (again)
	ActionTurnOnSync       Action = "turn_on_sync"      // auto-sync on for this device
	ActionChooseCategories Action = "choose_categories" // sync the guide's categories
	ActionAllowAnyNetwork  Action = "allow_any_network" // Wi-Fi only off
	ActionClearCache       Action = "clear_cache"       // empty the cache, fetch the settings again
	ActionResetViaEmail    Action = "reset_via_email"   // reset through the recovery email
	ActionResetViaPhone    Action = "reset_via_phone"   // reset through the recovery phone
	ActionEnterCode        Action = "enter_code"        // go on to the reset's code and new password
	ActionSupportCase      Action = "support_case"      // write a case file for support
)

// Diagnosis is what one diagnosis found: the cause (a stable id, the same
// in every language), how bad it is, the finding in one sentence, the fix,
// extra notes, and the actions offered, the most useful first.
type Diagnosis struct {
	Problem Problem
	Cause   string
	Level   Level
	Finding Text
	Fix     Text // zero when there is nothing to fix
	Notes   []Text
	Actions []Action
}

// Offers reports whether the diagnosis offers action a.
func (d Diagnosis) Offers(a Action) bool {
	for _, x := range d.Actions {
		if x == a {
			return true
		}
	}
	return false
}

// clock returns now, or time.Now when now is nil.
func clockNow(now func() time.Time) time.Time {
	if now != nil {
		return now()
	}
	return time.Now()
}

// hhmm formats a time for a sentence, in the local zone.
func hhmm(t time.Time) string { return t.Local().Format("15:04") }

// minutesLeft is d in whole minutes, rounded up, at least 1.
func minutesLeft(d time.Duration) int { return max(minutesUp(d), 1) }

// lastChallengeFile keeps the id of the last challenge this device asked
// for, so `misetup doctor` can read its delivery later.
const lastChallengeFile = "last-challenge.json"

// ChallengeRecord is what RememberChallenge keeps: never a code or an
// address, only what finds the challenge again.
type ChallengeRecord struct {
	ID      string    `json:"id"`
	Purpose string    `json:"purpose"`
	Channel string    `json:"channel"`
	SavedAt time.Time `json:"saved_at"`
}

// RememberChallenge writes ch's id to last-challenge.json in dir (the state
// dir, mode 0600), for `misetup doctor`. The wizard calls it whenever the
// service answers with a challenge (a registration, a resend, a reset).
func RememberChallenge(dir string, ch api.Challenge, now time.Time) error {
	if ch.ID == "" {
		return nil
	}
	b, err := json.Marshal(ChallengeRecord{ID: ch.ID, Purpose: ch.Purpose, Channel: ch.Channel, SavedAt: now.UTC()})
	if err != nil {
		return fmt.Errorf("remember challenge: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, lastChallengeFile), append(b, '\n'))
}

// LastChallenge returns the last challenge this device asked for: the one
// RememberChallenge kept, else the pending registration of the saved
// progress. ok is false when there is none.
func LastChallenge(dir string, progress ProgressStore) (ChallengeRecord, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, lastChallengeFile))
	switch {
	case err == nil:
		var r ChallengeRecord
		if json.Unmarshal(b, &r) == nil && r.ID != "" {
			return r, true, nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return ChallengeRecord{}, false, fmt.Errorf("read last challenge: %w", err)
	}
	if progress == nil {
		return ChallengeRecord{}, false, nil
	}
	p, ok, err := progress.LoadProgress()
	if err != nil || !ok || strings.TrimSpace(p.ChallengeID) == "" {
		return ChallengeRecord{}, false, err
	}
	return ChallengeRecord{ID: p.ChallengeID, Purpose: api.PurposeRegistration, SavedAt: p.SavedAt}, true, nil
}

// Render turns t into words with lookup (a catalog's T): arguments that
// are themselves a Text or a TextList (a category's name, a check's
// finding inside a sentence) are rendered first, a list joined with the
// catalog's "common.list_sep".
func (t Text) Render(lookup func(key string, args ...any) string) string {
	if t.IsZero() {
		return ""
	}
	args := make([]any, len(t.Args))
	for i, a := range t.Args {
		switch v := a.(type) {
		case Text:
			args[i] = v.Render(lookup)
		case TextList:
			parts := make([]string, len(v))
			for j, x := range v {
				parts[j] = x.Render(lookup)
			}
			args[i] = strings.Join(parts, lookup("common.list_sep"))
		default:
			args[i] = a
		}
	}
	return lookup(t.Key, args...)
}
