package flows

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"misetup/internal/phone"

	"misetup/api"
)

// Masks: what a support report, a case file and the doctor's table show of
// an identifier. They match the service's masks (j***@example.com,
// +86 ••• •••• 1234), so the person recognises the address without the
// report giving it away.

const bullet = "•"

// MaskEmail keeps the first character of the local part and the domain:
// "j***@example.com". Something that is not an address becomes "***".
func MaskEmail(email string) string {
	email = strings.TrimSpace(email)
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return "***"
	}
	local, domain := email[:at], cleanText(email[at+1:], 253)
	first, _ := utf8.DecodeRuneInString(local)
	if local == "" || first == utf8.RuneError || strings.Contains(local, "*") {
		return "***@" + domain
	}
	return cleanText(string(first), 1) + "***@" + domain
}

// MaskPhone keeps the country code and the last four digits of a phone
// number in E.164, the hidden digits grouped the way the country writes
// them: "+86 ••• •••• 1234". Anything else keeps only its last digits.
func MaskPhone(e164 string) string {
	e164 = strings.TrimSpace(e164)
	num, err := phone.Parse(e164, "")
	if err != nil || !strings.HasPrefix(e164, "+") {
		return MaskDigits(e164)
	}
	intl := num.International()
	cc, rest, ok := strings.Cut(intl, " ")
	if !ok {
		return MaskDigits(e164)
	}
	total := len(digitsOf(rest))
	hide := total - visibleDigits(total)
	var b strings.Builder
	b.WriteString(cc + " ")
	for _, r := range rest {
		switch {
		case r >= '0' && r <= '9' && hide > 0:
			b.WriteString(bullet)
			hide--
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case !strings.HasSuffix(b.String(), " "):
			b.WriteByte(' ')
		}
	}
	return strings.TrimSpace(b.String())
}

// MaskDigits keeps the last four digits of a number of seven digits or
// more (a Mi ID, a phone without its country code); a shorter one (a
// six-digit code) is hidden whole.
func MaskDigits(s string) string {
	d := digitsOf(s)
	if d == "" {
		return "***"
	}
	show := 0
	if len(d) >= 7 {
		show = visibleDigits(len(d))
	}
	return strings.Repeat(bullet, len(d)-show) + d[len(d)-show:]
}

// MaskIdentifier masks what a person types to name an account: an email,
// a phone number or a Mi ID.
func MaskIdentifier(id string) string {
	id = strings.TrimSpace(id)
	switch {
	case id == "":
		return ""
	case strings.Contains(id, "@"):
		return MaskEmail(id)
	case strings.HasPrefix(id, "+"):
		return MaskPhone(id)
	}
	return MaskDigits(id)
}

// MaskAccount names an account the way the person knows it, masked: the
// email, else the phone, with the Mi ID.
func MaskAccount(a api.Account) string {
	var who string
	switch {
	case a.Email != "":
		who = MaskEmail(a.Email)
	case a.Phone != "":
		who = MaskPhone(a.Phone)
	}
	switch {
	case who == "":
		return "Mi ID " + MaskDigits(a.MiID)
	case a.MiID == "":
		return who
	}
	return who + " (Mi ID " + MaskDigits(a.MiID) + ")"
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// visibleDigits is how many trailing digits of an n-digit number a mask
// shows: four, but never so many that fewer than three stay hidden.
func visibleDigits(n int) int { return max(0, min(4, n-3)) }

// What Redact looks for. Order matters: emails hold digits, tokens hold
// digit runs. Compiled at the first Redact, not when a program that never
// writes a report starts (\p{L} and \p{N} are large classes).
var redactREs = sync.OnceValue(func() (r struct{ email, token, intlPhone, digitRun *regexp.Regexp }) {
	r.email = regexp.MustCompile(`[\p{L}\p{N}._%+'\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)+`)
	r.token = regexp.MustCompile(`[A-Za-z0-9_\-]{20,}`)
	r.intlPhone = regexp.MustCompile(`\+\d[\d \-().]{5,}\d`)
	r.digitRun = regexp.MustCompile(`\b\d{6,}\b`)
	return r
})

// Redact masks whatever in s looks like an identifier or a secret: email
// addresses, international phone numbers, runs of six or more digits (codes,
// Mi IDs, national numbers) and long random-looking strings (tokens, ids).
// The report writers run every line through it, after masking what they
// know to be identifiers, so nothing slips through a translated sentence.
func Redact(s string) string {
	re := redactREs()
	s = re.email.ReplaceAllStringFunc(s, MaskEmail)
	s = re.token.ReplaceAllStringFunc(s, func(m string) string {
		if strings.ContainsAny(m, "0123456789") && strings.IndexFunc(m, isLetter) >= 0 {
			return "[redacted]"
		}
		return m
	})
	s = re.intlPhone.ReplaceAllStringFunc(s, func(m string) string {
		return "+" + MaskDigits(m)
	})
	return re.digitRun.ReplaceAllStringFunc(s, MaskDigits)
}

func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

// RedactURL drops the user and password of a URL ("https://u:p@host" →
// "https://host") for a report.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Redact(raw)
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

// ReportInfo is the heading of a support report. Every field is shown as
// given, after Redact: pass identifiers masked.
type ReportInfo struct {
	Created  time.Time
	Version  string // misetup's version
	Platform string // e.g. "linux/amd64"
	Server   string // the service's URL, "" for the built-in one
	Account  string // MaskAccount of the signed-in account, "" when not signed in
	Device   string // this device's name, model and OS
}

// WriteReport writes a support report of r: the heading, each finding with
// its fix, and a closing line saying what the report never holds. tr turns
// catalog texts into words. Identifiers are masked and every line goes
// through Redact: the report can be emailed to support as it is.
func WriteReport(w io.Writer, r Report, info ReportInfo, tr func(Text) string) error {
	var b strings.Builder
	line := func(s string) { b.WriteString(Redact(s) + "\n") }
	title := tr(T("doctor.report.title"))
	line(title)
	line(strings.Repeat("=", utf8.RuneCountInString(title)))
	server := tr(T("doctor.report.builtin"))
	if info.Server != "" {
		server = RedactURL(info.Server)
	}
	account := tr(T("doctor.report.not_signed_in"))
	if info.Account != "" {
		account = info.Account
	}
	rows := [][2]string{
		{tr(T("doctor.report.created")), info.Created.UTC().Format(time.RFC3339)},
		{tr(T("doctor.report.version")), strings.TrimSpace("misetup " + info.Version + " " + info.Platform)},
		{tr(T("doctor.report.service")), server},
		{tr(T("doctor.report.account")), account},
	}
	if info.Device != "" {
		rows = append(rows, [2]string{tr(T("doctor.report.device")), info.Device})
	}
	lw := 0
	for _, r := range rows {
		lw = max(lw, utf8.RuneCountInString(r[0]))
	}
	for _, r := range rows {
		line(r[0] + ":" + strings.Repeat(" ", lw-utf8.RuneCountInString(r[0])+2) + r[1])
	}
	line("")
	heading := tr(T("doctor.report.findings"))
	line(heading)
	line(strings.Repeat("-", utf8.RuneCountInString(heading)))
	iw := 0
	for _, f := range r.Findings {
		iw = max(iw, len(f.Check))
	}
	for _, f := range r.Findings {
		status := fmt.Sprintf("%-6s", "["+f.Level.String()+"]")
		line(status + " " + f.Check + strings.Repeat(" ", iw-len(f.Check)+2) + tr(f.Msg))
		if !f.Fix.IsZero() {
			line(strings.Repeat(" ", 7+iw+2) + tr(T("doctor.report.fix")) + " " + tr(f.Fix))
		}
	}
	line("")
	line(tr(T("doctor.report.masked")))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// SupportCase is what a person takes to support when no recovery contact
// can reset the password (the guide's problem 4, "contact support").
type SupportCase struct {
	ID       string    // a short random case reference, made by WriteSupportCase when empty
	Created  time.Time // when the case was written
	Account  string    // the account, masked (MaskAccount or MaskIdentifier)
	Lost     string    // what the person lost access to: "email", "phone" or ""
	Tried    []Text    // what was tried already
	Devices  []string  // names of the devices linked to the account, when known
	Version  string    // misetup's version
	Platform string
}

// supportCaseBring lists, in order, what to take to support.
var supportCaseBring = []string{
	"ts.case.bring.mi_id", "ts.case.bring.proof", "ts.case.bring.old_contact", "ts.case.bring.file",
}

// SupportCaseBring are the catalog keys of what to take to support, for
// the screen that says where the case file went.
func SupportCaseBring() []Text {
	out := make([]Text, len(supportCaseBring))
	for i, k := range supportCaseBring {
		out[i] = T(k)
	}
	return out
}

// WriteSupportCase writes the case file support-case-<id>.txt in dir (mode
// 0600) and returns its path and the case as written. Like the doctor's
// report it holds no unmasked identifier, password, code or token.
func WriteSupportCase(dir string, c SupportCase, tr func(Text) string) (string, SupportCase, error) {
	if c.ID == "" {
		var raw [4]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return "", c, fmt.Errorf("support case: %w", err)
		}
		// Two groups of four: easy to read out, and never a run of six
		// digits, which Redact would take for an identifier and mask (an
		// all-digit id did so one case in forty).
		id := strings.ToUpper(hex.EncodeToString(raw[:]))
		c.ID = id[:4] + "-" + id[4:]
	}
	if c.Created.IsZero() {
		c.Created = time.Now()
	}
	var b strings.Builder
	line := func(s string) { b.WriteString(Redact(s) + "\n") }
	title := tr(T("ts.case.title", "id", c.ID))
	line(title)
	line(strings.Repeat("=", utf8.RuneCountInString(title)))
	line(tr(T("doctor.report.created")) + ": " + c.Created.UTC().Format(time.RFC3339))
	line(tr(T("doctor.report.version")) + ": " + strings.TrimSpace("misetup "+c.Version+" "+c.Platform))
	account := c.Account
	if account == "" {
		account = tr(T("ts.case.account_unknown"))
	}
	line(tr(T("doctor.report.account")) + ": " + account)
	if c.Lost != "" {
		line(tr(T("ts.case.lost." + c.Lost)))
	}
	if len(c.Devices) > 0 {
		line(tr(T("ts.case.devices")) + ": " + strings.Join(c.Devices, ", "))
	}
	if len(c.Tried) > 0 {
		line("")
		line(tr(T("ts.case.tried")))
		for _, t := range c.Tried {
			line("  - " + tr(t))
		}
	}
	line("")
	line(tr(T("ts.case.bring")))
	for i, t := range SupportCaseBring() {
		line(fmt.Sprintf("  %d. %s", i+1, tr(t)))
	}
	line("")
	line(tr(T("doctor.report.masked")))
	path := filepath.Join(dir, "support-case-"+c.ID+".txt")
	if err := writeFileAtomic(path, []byte(b.String())); err != nil {
		return "", c, fmt.Errorf("support case: %w", err)
	}
	return path, c, nil
}
