package flows

// Step is one screen of the wizard.
type Step int

// The wizard's steps. Several screens share a number: creating an account,
// its code, signing in and resetting a password are all step 5 "your
// account". The device step comes before signing in because the device is
// sent with the sign-in, which links it to the account.
const (
	StepWelcome Step = iota
	StepRequirements
	StepDevice
	StepAccount // sign in or create account
	StepCreate
	StepCode // the registration's verification code
	StepSignIn
	StepReset     // forgot password: the identifier
	StepResetCode // forgot password: the code and the new password
	StepSync
	StepFindDevice
	StepSummary
	StepTroubleshoot
	StepHub // the account hub after set-up (misetup account)
	// StepHandoff is a kiosk's "Type it on your phone": a QR code of a
	// one-time link where the customer types the identifier and password
	// on their own phone, for creating an account or signing in.
	StepHandoff
	// StepRestore is "Restore from Mi Cloud": on a device signing in to an
	// account with backups, after Mi Cloud.
	StepRestore
	stepCount
)

// StepsTotal is the M of "Step N of M".
const StepsTotal = 8

var stepNames = [...]string{
	StepWelcome: "welcome", StepRequirements: "requirements", StepDevice: "device",
	StepAccount: "account", StepCreate: "create", StepCode: "code", StepSignIn: "sign_in",
	StepReset: "reset", StepResetCode: "reset_code", StepSync: "sync",
	StepFindDevice: "find_device", StepSummary: "summary", StepTroubleshoot: "troubleshoot",
	StepHub: "hub", StepHandoff: "handoff", StepRestore: "restore",
}

// String is the step's name, as saved in the progress file and used in
// catalog keys ("step.<name>").
func (s Step) String() string {
	if s < 0 || s >= stepCount {
		return "unknown"
	}
	return stepNames[s]
}

// ParseStep is the inverse of String; ok is false for an unknown name.
func ParseStep(name string) (Step, bool) {
	for i, n := range stepNames {
		if n == name {
			return Step(i), true
		}
	}
	return StepWelcome, false
}

// Number is the N of "Step N of M"; 0 for a screen outside the count
// (troubleshooting).
func (s Step) Number() int {
	switch s {
	case StepWelcome:
		return 1
	case StepRequirements:
		return 2
	case StepDevice:
		return 3
	case StepAccount:
		return 4
	case StepCreate, StepCode, StepSignIn, StepReset, StepResetCode, StepHandoff:
		return 5
	case StepSync, StepRestore:
		return 6
	case StepFindDevice:
		return 7
	case StepSummary:
		return 8
	}
	return 0
}

// InFlow reports whether leaving at s loses work in progress, so quitting
// asks first: everything between the welcome and the summary.
func (s Step) InFlow() bool { return s != StepWelcome && s != StepSummary && s != StepHub }

// PathTo is the history of screens that leads to s, s included, so that a
// resumed wizard can go back (esc) as if the person had walked there.
func PathTo(s Step) []Step {
	base := []Step{StepWelcome, StepRequirements, StepDevice, StepAccount}
	switch s {
	case StepWelcome, StepRequirements, StepDevice, StepAccount:
		return base[:s.Number()]
	case StepCreate:
		return append(base, StepCreate)
	case StepCode:
		return append(base, StepCreate, StepCode)
	case StepSignIn:
		return append(base, StepSignIn)
	case StepReset:
		return append(base, StepSignIn, StepReset)
	case StepResetCode:
		return append(base, StepSignIn, StepReset, StepResetCode)
	case StepHandoff:
		return append(base, StepHandoff)
	case StepSync:
		return append(base, StepSync)
	case StepRestore:
		return append(base, StepSync, StepRestore)
	case StepFindDevice:
		return append(base, StepSync, StepFindDevice)
	case StepSummary:
		return append(base, StepSync, StepFindDevice, StepSummary)
	}
	return []Step{StepWelcome, s}
}

// ResumeStep decides where a restarted wizard goes back to, from the saved
// progress and whether the saved session is still signed in. A finished
// set-up is not an interruption: signed in, it goes to the summary (to
// review it); signed out, it starts again (StepRequirements: nothing to
// resume).
func ResumeStep(p Progress, signedIn bool) Step {
	if p.Finished {
		if signedIn {
			return StepSummary
		}
		return StepRequirements
	}
	saved, ok := ParseStep(p.Step)
	if !ok {
		saved = StepWelcome
	}
	if signedIn {
		switch saved {
		case StepSync, StepRestore, StepFindDevice, StepSummary:
			return saved // a restore stopped midway goes on where it stopped
		}
		return StepSync
	}
	switch saved {
	case StepWelcome, StepRequirements:
		return StepRequirements
	case StepDevice, StepAccount, StepCreate, StepSignIn:
		return saved
	case StepHandoff:
		return StepAccount // its link is for one customer, minutes only
	case StepCode:
		if p.ChallengeID != "" {
			return StepCode
		}
		return StepCreate
	case StepReset, StepResetCode:
		return StepReset
	case StepSync, StepFindDevice, StepSummary:
		// The session is gone (expired, revoked, signed out): sign in again.
		return StepSignIn
	}
	return StepRequirements
}
