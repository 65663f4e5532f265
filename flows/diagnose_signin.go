package flows

import (
	"context"
	"strings"
	"time"

	"misetup/internal/phone"

	"misetup/api"
)

// Causes of the sign-in diagnosis (Diagnosis.Cause).
const (
	SignInNoAttempt     = "no_attempt"        // nothing tried yet: only the identifier's shape is checked
	SignInOK            = "signed_in"         // the last attempt signed in
	SignInLocked        = "locked"            // too many wrong passwords: locked until LockedUntil
	SignInWrong         = "wrong_credentials" // the identifier or the password is wrong
	SignInBadIdentifier = "bad_identifier"    // not an email, phone or Mi ID the service takes
	SignInSecondFactor  = "second_factor"     // the password is right; the TOTP code is missing or wrong
	SignInRateLimited   = "rate_limited"      // too many failures from this network
	SignInUnavailable   = "unavailable"       // the service did not answer
	SignInOther         = "other"             // any other refusal
)

// Kinds of IdentifierIssue.
const (
	IssuePhoneCountryCode = "phone_country_code" // a phone number without its country code
	IssueEmailDomain      = "email_domain"       // a common email domain, mistyped
)

// IdentifierIssue is something wrong with the shape of an identifier, with
// the identifier as it probably should be.
type IdentifierIssue struct {
	Kind       string
	Suggestion string // the corrected identifier, ready to sign in with
	Text       Text
}

// SignInAttempt is a sign-in and the service's answer.
type SignInAttempt struct {
	Identifier string    // as typed
	Region     string    // the default country of a phone number
	Err        error     // the answer: nil when it signed in
	At         time.Time // when the answer came; zero when nothing was tried
}

// SignInDiagnosis is the finding of "Can't sign in or account locked".
type SignInDiagnosis struct {
	Diagnosis
	Identifier  string            // as typed
	LockedUntil time.Time         // when a lock ends; zero unless Cause is SignInLocked
	Issues      []IdentifierIssue // the identifier's shape
}

// Suggestion is the first corrected identifier, "" when the shape is fine.
func (d SignInDiagnosis) Suggestion() string {
	if len(d.Issues) == 0 {
		return ""
	}
	return d.Issues[0].Suggestion
}

// DiagnoseSignIn tells, from a sign-in attempt's answer, a locked account
// (and until when) from wrong credentials, a missing second factor or an
// unreachable service, and checks the identifier's shape: a phone number
// without its country code, a common email domain mistyped. It offers
// "Forgot password?", which also unlocks.
func DiagnoseSignIn(a SignInAttempt, now time.Time) SignInDiagnosis {
	id := cleanText(a.Identifier, 254)
	d := SignInDiagnosis{Identifier: id, Issues: CheckIdentifier(id, a.Region)}
	d.Problem = ProblemSignIn
	for _, is := range d.Issues {
		d.Notes = append(d.Notes, is.Text)
	}
	var act []Action
	if len(d.Issues) > 0 {
		act = append(act, ActionUseSuggestion)
	}
	set := func(cause string, level Level, finding, fix Text, actions ...Action) {
		d.Cause, d.Level, d.Finding, d.Fix = cause, level, finding, fix
		d.Actions = append(act, actions...)
	}
	if a.At.IsZero() && a.Err == nil {
		set(SignInNoAttempt, LevelOK, T("ts.signin.none"), T("ts.signin.none.fix"), ActionSignIn, ActionForgotPassword)
		if len(d.Issues) > 0 {
			d.Level = LevelWarn
		}
		return d
	}
	if a.Err == nil {
		set(SignInOK, LevelOK, T("ts.signin.ok"), Text{})
		d.Actions = nil
		return d
	}
	at := a.At
	if at.IsZero() {
		at = now
	}
	ue := Explain(a.Err)
	switch ue.Key {
	case ErrKeyAccountLocked:
		wait := ue.Wait
		if wait <= 0 {
			wait = 15 * time.Minute
		}
		d.LockedUntil = at.Add(wait)
		set(SignInLocked, LevelFail, T("ts.signin.locked", "id", id), T("ts.signin.locked.fix"),
			ActionForgotPassword)
		if s := d.Suggestion(); s != "" {
			d.Notes = append(d.Notes, T("ts.signin.locked.typo", "id", id, "suggestion", s))
		}
	case ErrKeyInvalidCreds:
		level := LevelFail
		if len(d.Issues) > 0 {
			level = LevelWarn // most likely the typo, not the password
		}
		set(SignInWrong, level, T("ts.signin.wrong", "id", id), T("ts.signin.wrong.fix"),
			ActionSignIn, ActionForgotPassword)
	case ErrKeyInvalidInput, ErrKeyInvalidInput + ".identifier", ErrKeyIdentifierEmpty, ErrKeyEmailInvalid, ErrKeyPhoneInvalid:
		set(SignInBadIdentifier, LevelFail, T("ts.signin.bad_id", "id", id), T("ts.signin.bad_id.fix"),
			ActionSignIn)
	case ErrKeySecondFactor, ErrKeyTOTPInvalid:
		set(SignInSecondFactor, LevelWarn, T("ts.signin.second_factor"), T("ts.signin.second_factor.fix"),
			ActionSignIn, ActionForgotPassword)
	case ErrKeyRateLimited:
		set(SignInRateLimited, LevelFail, T("ts.signin.rate_limited", "min", minutesLeft(ue.Wait)),
			T("ts.signin.rate_limited.fix"), ActionForgotPassword)
	case ErrKeyUnavailable, ErrKeyTimeout, ErrKeyServiceNotStarted:
		set(SignInUnavailable, LevelFail, T("ts.signin.unavailable"), T("ts.signin.unavailable.fix"),
			ActionSignIn)
	default:
		set(SignInOther, LevelFail, T(ue.Key, ue.Args...), T(ue.Hint(), ue.Args...), ActionSignIn, ActionForgotPassword)
	}
	return d
}

// TrySignIn signs in (saving the session as SignIn does) and diagnoses the
// answer, so troubleshooting can check the credentials in place.
func TrySignIn(ctx context.Context, a Authenticator, sessions SessionStore, in SignInInput, now func() time.Time) (api.Session, SignInDiagnosis) {
	s, err := SignIn(ctx, a, sessions, in)
	d := DiagnoseSignIn(SignInAttempt{Identifier: in.Identifier, Region: in.Region, Err: err, At: clockNow(now)}, clockNow(now))
	return s, d
}

// CheckIdentifier checks the shape of an identifier typed to sign in:
// a phone number without its country code (valid in another country of
// the picker, or with "+" put in front), a common email domain mistyped
// (gmial.com, hotmial.com, qq.con). Each issue carries the corrected
// identifier.
func CheckIdentifier(id, region string) []IdentifierIssue {
	id = strings.TrimSpace(id)
	if id == "" {
		return nil
	}
	if strings.Contains(id, "@") {
		if s := SuggestEmail(id); s != "" {
			domain := id[strings.LastIndexByte(id, '@')+1:]
			return []IdentifierIssue{{Kind: IssueEmailDomain, Suggestion: s,
				Text: T("ts.signin.issue.email", "domain", domain, "suggestion", s)}}
		}
		return nil
	}
	if s := SuggestPhone(id, region); s != "" {
		return []IdentifierIssue{{Kind: IssuePhoneCountryCode, Suggestion: s,
			Text: T("ts.signin.issue.phone", "id", id, "suggestion", s)}}
	}
	return nil
}

// SuggestPhone returns a phone number typed without its country code as it
// should be typed ("+86 138 0013 8000"), when it is not a valid number of
// region but is one with "+" in front or in a country of the picker. It
// returns "" when the number is fine as typed, or is not a phone number
// (a Mi ID, say).
func SuggestPhone(id, region string) string {
	id = strings.TrimSpace(id)
	if id == "" || strings.HasPrefix(id, "+") || strings.HasPrefix(id, "00") {
		return ""
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r == ' ' || r == '-' || r == '(' || r == ')' || r == '.') {
			return ""
		}
	}
	digits := digitsOf(id)
	if len(digits) < 7 || len(digits) > 15 {
		return ""
	}
	// Up to ten digits without a trunk 0 may be a Mi ID (or a local
	// number): too ambiguous to correct.
	if len(digits) <= 10 && digits[0] != '0' {
		return ""
	}
	valid := func(s, r string) (phone.Number, bool) {
		n, err := phone.Parse(s, r)
		return n, err == nil && n.Valid()
	}
	if region != "" {
		if _, ok := valid(id, strings.ToUpper(region)); ok {
			return ""
		}
	}
	if n, ok := valid("+"+digits, ""); ok {
		return n.International()
	}
	for _, r := range pickerRegions {
		if n, ok := valid(id, r); ok && n.Region() == r {
			return n.International()
		}
	}
	return ""
}

// emailDomains are domains that are fine as they are, so a near miss of a
// provider that is itself real (mail.com near gmail.com) is not flagged.
var emailDomains = map[string]bool{
	"gmail.com": true, "googlemail.com": true, "hotmail.com": true, "outlook.com": true, "live.com": true,
	"msn.com": true, "yahoo.com": true, "ymail.com": true, "icloud.com": true, "me.com": true, "mac.com": true,
	"aol.com": true, "protonmail.com": true, "proton.me": true, "qq.com": true, "foxmail.com": true,
	"163.com": true, "126.com": true, "yeah.net": true, "sina.com": true, "sina.cn": true, "sohu.com": true,
	"aliyun.com": true, "139.com": true, "mail.com": true, "email.com": true, "gmx.com": true, "gmx.de": true,
	"gmx.net": true, "web.de": true, "yandex.ru": true, "mail.ru": true, "hotmail.co.uk": true,
	"yahoo.co.uk": true, "yahoo.co.jp": true, "outlook.jp": true, "live.cn": true, "xiaomi.com": true,
	"mi.com": true, "example.com": true, "example.org": true, "example.net": true,
}

// typoTargets are the domains a mistyped one is compared with.
var typoTargets = []string{
	"gmail.com", "hotmail.com", "outlook.com", "yahoo.com", "icloud.com", "qq.com", "163.com", "126.com",
	"foxmail.com", "live.com", "aol.com", "protonmail.com", "sina.com",
}

// comTypos are top-level domains that are "com" mistyped.
var comTypos = map[string]bool{
	"con": true, "cmo": true, "ocm": true, "vom": true, "xom": true, "comm": true, "cpm": true,
	"coom": true, "c0m": true, "comn": true, "cim": true,
}

// SuggestEmail returns the address with its domain corrected when the
// domain looks like a common one mistyped (gmial.com → gmail.com,
// hotmial.com → hotmail.com, qq.con → qq.com), else "".
func SuggestEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || at == len(addr)-1 {
		return ""
	}
	local, domain := addr[:at], strings.ToLower(strings.TrimSpace(addr[at+1:]))
	if emailDomains[domain] {
		return ""
	}
	fixed := domain
	if i := strings.LastIndexByte(domain, '.'); i > 0 && comTypos[domain[i+1:]] {
		fixed = domain[:i] + ".com"
	}
	best, bestDist := "", 3
	for _, t := range typoTargets {
		limit := 1
		if len(t) >= 10 {
			limit = 2
		}
		if d := osaDistance(fixed, t); d <= limit && d < bestDist {
			best, bestDist = t, d
		}
	}
	switch {
	case best != "":
		return local + "@" + best
	case fixed != domain:
		return local + "@" + fixed
	}
	return ""
}

// osaDistance is the optimal string alignment distance of a and b: the
// edits (insert, delete, substitute, swap two neighbours) from one to the
// other.
func osaDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
