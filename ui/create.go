package ui

import (
	"fmt"
	"strings"
	"unicode"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"misetup/api"
	"misetup/flows"
)

// Focusable parts of the create-account form.
type createField int

const (
	cfMethod createField = iota
	cfCountry
	cfIdentifier
	cfPassword
	cfConfirm
	cfButton
)

// createScreen is step 5 when creating an account (GUIDE section 3): the
// method, the identifier with live validation, the password with its live
// checklist; the code comes next.
type createScreen struct {
	sh      *shared
	method  int // 0 phone, 1 email
	region  int // index into flows.Regions()
	regions []flows.Region

	id, pw, confirm textinput.Model
	focus           createField
	touched         bool // the identifier was left once: show its errors in full

	commonRefused string // the password the service refused as common
	again         bool   // asked to send again for a new code, but the password is needed first
	cap           inputCap
	retry         retrier
	busy          bool
	err           error
	spin          spinner.Model
}

func newCreateScreen(sh *shared) *createScreen {
	s := &createScreen{sh: sh, regions: flows.Regions(), spin: newSpinner(sh)}
	if sh.wiz.Method == api.MethodEmail {
		s.method = 1
	}
	s.region = flows.RegionIndex(sh.wiz.Region)
	s.id = newInput(sh, "", 254, false)
	s.pw = newInput(sh, "", flows.PasswordMaxLen, true)
	s.confirm = newInput(sh, "", flows.PasswordMaxLen, true)
	if sh.wiz.Identifier != "" && flows.MethodOf(sh.wiz.Identifier) == s.methodName() {
		s.id.SetValue(sh.wiz.Identifier)
	}
	s.focus = cfIdentifier
	s.restyle()
	return s
}

func (s *createScreen) methodName() string {
	if s.method == 1 {
		return api.MethodEmail
	}
	return api.MethodPhone
}

func (s *createScreen) regionCode() string { return s.regions[s.region].Code }

// fields are the focusable parts in order (no country for email).
func (s *createScreen) fields() []createField {
	if s.method == 1 {
		return []createField{cfMethod, cfIdentifier, cfPassword, cfConfirm, cfButton}
	}
	return []createField{cfMethod, cfCountry, cfIdentifier, cfPassword, cfConfirm, cfButton}
}

// inputs are the fields that take text.
func (s *createScreen) inputs() map[createField]*textinput.Model {
	return map[createField]*textinput.Model{cfIdentifier: &s.id, cfPassword: &s.pw, cfConfirm: &s.confirm}
}

func (s *createScreen) move(d int) tea.Cmd {
	if s.focus == cfIdentifier {
		s.touched = true
	}
	s.focus = cycle(s.fields(), s.focus, d)
	return s.focusCmd()
}

func (s *createScreen) focusCmd() tea.Cmd { return focusInput(s.focus, s.inputs()) }

// Init implements Screen.
func (s *createScreen) Init() tea.Cmd { return s.focusCmd() }

// CapturesText implements textCapturer.
func (s *createScreen) CapturesText() bool {
	_, ok := s.inputs()[s.focus]
	return ok
}

func (s *createScreen) restyle() {
	sh := s.sh
	sh.styleInputs(s.labelWidth(), &s.id, &s.pw, &s.confirm)
	if s.method == 1 {
		s.id.Placeholder = sh.T("create.email_placeholder")
	} else {
		s.id.Placeholder = sh.T("create.phone_placeholder")
	}
	s.pw.Placeholder = sh.T("create.password_placeholder", "min", flows.PasswordMinLen)
	s.confirm.Placeholder = sh.T("create.confirm_placeholder")
	s.spin.Style = sh.st.Spinner
}

func (s *createScreen) labelWidth() int {
	sh := s.sh
	return labelWidth(sh.T("create.method"), sh.T("create.country"), sh.T("create.phone"),
		sh.T("create.email"), sh.T("create.password"), sh.T("create.confirm"))
}

// Update implements Screen.
func (s *createScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg, languageChangedMsg, stylesChangedMsg:
		s.restyle()
		return s, nil
	case registerAgainMsg:
		// The code screen's "Send a new code": the same answers again.
		s.err = nil
		if s.complete() {
			return s, s.submit()
		}
		s.again, s.focus = true, cfPassword
		if s.identifierErr() != nil {
			s.focus = cfIdentifier
		}
		return s, s.focusCmd()
	case registeredMsg:
		s.busy, s.again = false, false
		if msg.err != nil {
			s.err = msg.err
			if offline(msg.err) {
				s.focus = cfButton
				return s, tea.Batch(s.focusCmd(), s.retry.failed(msg.err, s.sh.now(), s.submit))
			}
			s.retry.stop()
			if flows.IsCommonRefusal(msg.err) {
				s.commonRefused = s.pw.Value()
				s.focus = cfPassword
				return s, s.focusCmd()
			}
			return s, nil
		}
		s.retry.stop()
		ch := msg.challenge
		s.sh.wiz.Challenge = &ch
		return s, navigateCmd(flows.StepCreate, flows.StepCode)
	case retryTickMsg:
		return s, s.retry.tick(msg, s.sh.now())
	case tea.KeyPressMsg:
		if s.busy {
			return s, nil
		}
		if isKey(msg, "r", "R") && s.retry.pending() && !s.CapturesText() {
			return s, s.retry.now()
		}
		return s, s.key(msg)
	case tea.PasteMsg:
		return s, s.typeInto(msg)
	}
	return s, spin(&s.spin, s.busy, msg)
}

func (s *createScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case isKey(msg, kTab, kDown):
		return s.move(1)
	case isKey(msg, kShiftTab, kUp):
		return s.move(-1)
	case isKey(msg, kEnter):
		if s.focus == cfButton || s.complete() {
			return s.submit()
		}
		return s.move(1)
	}
	switch s.focus {
	case cfMethod:
		if isKey(msg, kLeft, kRight, kSpace) {
			s.method = 1 - s.method
			s.sh.wiz.Method = s.methodName()
			s.id.SetValue("")
			s.touched, s.err = false, nil
			s.restyle()
		}
		return nil
	case cfCountry:
		switch {
		case isKey(msg, kLeft):
			s.region = (s.region - 1 + len(s.regions)) % len(s.regions)
		case isKey(msg, kRight, kSpace):
			s.region = (s.region + 1) % len(s.regions)
		case len(msg.Text) == 1 && unicode.IsLetter(rune(msg.Text[0])):
			s.jumpRegion(strings.ToUpper(msg.Text))
		}
		s.sh.wiz.Region = s.regionCode()
		return nil
	case cfButton:
		return nil
	}
	return s.typeInto(msg)
}

// jumpRegion selects the next country whose code starts with letter.
func (s *createScreen) jumpRegion(letter string) {
	for i := 1; i <= len(s.regions); i++ {
		j := (s.region + i) % len(s.regions)
		if strings.HasPrefix(s.regions[j].Code, letter) {
			s.region = j
			return
		}
	}
}

// typeInto hands a key or a paste to the focused input.
func (s *createScreen) typeInto(msg tea.Msg) tea.Cmd {
	ti, ok := s.inputs()[s.focus]
	if !ok {
		return nil
	}
	cmd := s.cap.update(ti, msg)
	if s.focus == cfIdentifier {
		s.sh.wiz.Identifier = strings.TrimSpace(s.id.Value())
	}
	s.err = nil
	return cmd
}

func (s *createScreen) identifierErr() error {
	_, err := flows.ValidateIdentifier(s.methodName(), s.id.Value(), s.regionCode())
	return err
}

// complete reports whether the form can be sent.
func (s *createScreen) complete() bool {
	return s.identifierErr() == nil &&
		flows.ValidateNewPassword(s.pw.Value(), s.confirm.Value(), s.commonRefused) == nil
}

func (s *createScreen) submit() tea.Cmd {
	reg := flows.Registration{
		Method: s.methodName(), Identifier: s.id.Value(), Region: s.regionCode(),
		Language: s.sh.tr.Lang(), Password: s.pw.Value(), Confirm: s.confirm.Value(),
		CommonRefused: s.commonRefused,
	}
	s.touched = true
	// Check here first, so a form error never waits for the network.
	if err := s.identifierErr(); err != nil {
		s.err, s.focus = err, cfIdentifier
		return s.focusCmd()
	}
	if err := flows.ValidateNewPassword(reg.Password, reg.Confirm, reg.CommonRefused); err != nil {
		s.err, s.focus = err, cfPassword
		if flows.Explain(err).Key == flows.ErrKeyPasswordMismatch {
			s.focus = cfConfirm
		}
		return s.focusCmd()
	}
	s.sh.wiz.Method, s.sh.wiz.Identifier, s.sh.wiz.Region = reg.Method, strings.TrimSpace(reg.Identifier), reg.Region
	s.busy, s.err = true, nil
	ctx, cancel := s.sh.callCtx()
	acc := s.sh.deps.Accounts
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		defer cancel()
		ch, err := flows.Register(ctx, acc, reg)
		return registeredMsg{challenge: ch, err: err}
	})
}

// Keys implements Screen.
func (s *createScreen) Keys() []key.Binding {
	sh := s.sh
	keys := []key.Binding{sh.keyContinue(), sh.keyNextField()}
	if s.retry.pending() && !s.CapturesText() {
		keys = append([]key.Binding{sh.keyRetryNow()}, keys...)
	}
	if s.focus == cfMethod || s.focus == cfCountry {
		keys = append(keys, sh.keyChoose())
	}
	return keys
}

// View implements Screen.
func (s *createScreen) View() string {
	sh := s.sh
	lw := s.labelWidth()
	var b strings.Builder
	methods := []string{sh.T("create.by_phone"), sh.T("create.by_email")}
	b.WriteString(sh.fieldLine(sh.T("create.method"), lw, s.focus == cfMethod,
		sh.choiceView(methods, s.method, s.focus == cfMethod)) + "\n")
	if s.method == 0 {
		r := s.regions[s.region]
		country := fmt.Sprintf("‹ %s (+%d) ›", sh.tr.TOr("country."+r.Code, r.Code), r.CallingCode)
		st := sh.st.Text
		if s.focus == cfCountry {
			st = sh.st.Selected
		}
		b.WriteString(sh.withNote(sh.fieldLine(sh.T("create.country"), lw, s.focus == cfCountry, st.Render(country)), sh.regionByStore(r.Code)) + "\n")
	}
	idLabel := sh.T("create.phone")
	if s.method == 1 {
		idLabel = sh.T("create.email")
	}
	b.WriteString(sh.fieldLine(idLabel, lw, s.focus == cfIdentifier, s.id.View()) + "\n")
	noteSt, note := s.identifierNote()
	b.WriteString(sh.noteLine(lw, noteSt, note) + "\n")
	b.WriteString(sh.fieldLine(sh.T("create.password"), lw, s.focus == cfPassword, s.pw.View()) + "\n")
	b.WriteString(sh.fieldLine(sh.T("create.confirm"), lw, s.focus == cfConfirm, s.confirm.View()) + "\n")
	b.WriteString(sh.passwordChecklist(s.pw.Value(), s.confirm.Value(), s.commonRefused) + "\n\n")
	b.WriteString(sh.buttonView(sh.T("create.submit"), s.focus == cfButton, !s.busy) + "\n")
	switch {
	case s.busy:
		b.WriteString("\n" + sh.busyLine(s.spin, sh.T("create.sending")))
	case s.err != nil:
		b.WriteString("\n" + errorView(sh, s.err))
		if s.retry.pending() {
			b.WriteString("\n  " + s.retry.line(sh))
		}
	case s.cap.hit > 0:
		b.WriteString("\n" + sh.paragraph(sh.st.Warn, s.cap.note(sh), 0))
	case s.again:
		b.WriteString("\n" + sh.paragraph(sh.st.Warn, sh.T("create.again"), 0))
	default:
		b.WriteString("\n" + sh.paragraph(sh.st.Muted, sh.T("create.code_note"), 0))
	}
	return b.String()
}

// identifierNote is the live line under the identifier, in its style: the
// number as it will be dialled, or what is wrong.
func (s *createScreen) identifierNote() (lipgloss.Style, string) {
	sh := s.sh
	v := strings.TrimSpace(s.id.Value())
	if v == "" {
		return sh.st.Muted, ""
	}
	err := s.identifierErr()
	if s.method == 1 {
		switch {
		case err == nil:
			return sh.st.OK, markOK + " " + sh.T("create.email_ok")
		case s.touched || s.focus != cfIdentifier || flows.Definite(err):
			return sh.st.Fail, errorText(sh, err)
		}
		return sh.st.Muted, sh.T("create.keep_typing")
	}
	shown := flows.FormatPhone(v, s.regionCode())
	switch {
	case err == nil:
		e164, _ := flows.ParsePhone(v, s.regionCode())
		return sh.st.OK, markOK + " " + flows.FormatPhone(e164, "")
	case s.touched || s.focus != cfIdentifier:
		return sh.st.Fail, errorText(sh, err)
	}
	return sh.st.Muted, shown + "  " + sh.T("create.keep_typing")
}
