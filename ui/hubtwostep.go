package ui

import (
	"context"
	"strings"

	"charm.land/lipgloss/v2"

	"misetup/api"
	"misetup/flows"
	"misetup/internal/qr"
)

// hubTwoStep is two-step verification (GUIDE section 10): turn it on with
// an authenticator app, or off with the password.
func (sh *shared) hubTwoStep() page {
	m := sh.deps.Manager
	return reading(m.Account, func(acc api.Account) *step {
		if acc.TOTPEnabled {
			return sh.twoStepOff()
		}
		return sh.twoStepOn()
	})
}

// twoStepOn explains two-step verification and starts the enrolment.
func (sh *shared) twoStepOn() *step {
	m := sh.deps.Manager
	return &step{
		title:  sh.T("hub.two_step.title"),
		body:   func(int) string { return sh.paragraph(sh.st.Text, sh.T("hub.two_step.intro"), 0) },
		fields: []field{{key: "go", kind: fieldMenu, options: []string{sh.T("hub.two_step.turn_on")}}},
		run: func(ctx context.Context, _ values) (outcome, error) {
			setup, err := flows.StartTwoStep(ctx, m)
			if err != nil {
				return outcome{}, err
			}
			return outcome{next: staticPage(func() *step { return sh.twoStepScan(setup) })}, nil
		},
	}
}

// twoStepScan shows the secret as a QR code, alone on its page so that it
// fits 80x24; enter goes on to the code.
func (sh *shared) twoStepScan(setup api.TOTPSetup) *step {
	return &step{
		title: sh.T("hub.two_step.scan_title"),
		body: func(width int) string {
			return sh.qrView(setup.OTPAuthURI, width) + "\n" + sh.paragraph(sh.st.Muted, sh.T("hub.two_step.scanned"), 0)
		},
		instant: true,
		run: func(context.Context, values) (outcome, error) {
			return outcome{next: staticPage(func() *step { return sh.twoStepCode(setup) })}, nil
		},
	}
}

// twoStepCode shows the secret as text (for an app that cannot scan, and
// for plain mode) and asks for the app's first code.
func (sh *shared) twoStepCode(setup api.TOTPSetup) *step {
	m := sh.deps.Manager
	return &step{
		title: sh.T("hub.two_step.code_title"),
		body: func(int) string {
			return sh.paragraph(sh.st.Text, sh.T("hub.two_step.secret", "secret", groupSecret(setup.Secret)), 0)
		},
		fields: []field{{key: "code", kind: fieldText, label: sh.T("hub.two_step.code"), limit: 7, placeholder: "123456"}},
		submit: sh.T("hub.verify"),
		busy:   sh.T("hub.verifying"),
		run: func(ctx context.Context, v values) (outcome, error) {
			codes, err := flows.ConfirmTwoStep(ctx, m, v.text("code"))
			if err != nil {
				return outcome{}, err
			}
			return outcome{next: staticPage(func() *step { return sh.twoStepCodes(codes) })}, nil
		},
	}
}

// twoStepCodes shows the recovery codes once, until the person says they
// saved them.
func (sh *shared) twoStepCodes(codes []string) *step {
	return &step{
		title: sh.T("hub.two_step.codes_title"),
		body: func(int) string {
			var b strings.Builder
			b.WriteString(sh.paragraph(sh.st.Text, sh.T("hub.two_step.codes_intro", "n", len(codes)), 0) + "\n\n")
			for i := 0; i < len(codes); i += 2 {
				line := "  " + sh.st.Value.Render(codes[i])
				if i+1 < len(codes) {
					line += "    " + sh.st.Value.Render(codes[i+1])
				}
				b.WriteString(line + "\n")
			}
			return strings.TrimRight(b.String(), "\n")
		},
		fields:  []field{{key: "saved", kind: fieldMenu, options: []string{sh.T("hub.two_step.saved")}}},
		instant: true,
		run: func(context.Context, values) (outcome, error) {
			return outcome{back: 4, note: flows.T("hub.two_step.on_done")}, nil
		},
	}
}

// twoStepOff turns two-step verification off with the password.
func (sh *shared) twoStepOff() *step {
	m := sh.deps.Manager
	return &step{
		title:  sh.T("hub.two_step.title"),
		body:   func(int) string { return sh.paragraph(sh.st.OK, markOK+" "+sh.T("hub.two_step.is_on"), 2) },
		fields: []field{{key: "password", kind: fieldSecret, label: sh.T("hub.password.current")}},
		submit: sh.T("hub.two_step.turn_off"),
		busy:   sh.T("find.saving"),
		check:  func(v values) error { return flows.CheckPasswordGiven(v.text("password")) },
		run: func(ctx context.Context, v values) (outcome, error) {
			if err := flows.DisableTwoStep(ctx, m, v.text("password")); err != nil {
				return outcome{}, err
			}
			return outcome{back: 1, note: flows.T("hub.two_step.off_done")}, nil
		},
	}
}

// qrView draws a QR code dark on light whatever the terminal's colours, in
// the room a page has at 80x24 (the header, the secret and the code field
// take the rest); when it cannot fit, it says so and the secret is typed.
func (sh *shared) qrView(text string, width int) string {
	m, err := qr.Fit(text, width, qrRows)
	if err != nil {
		return sh.paragraph(sh.st.Warn, sh.T("hub.two_step.no_room"), 0)
	}
	ink := lipgloss.NewStyle().Foreground(lipgloss.Color("#000000")).Background(lipgloss.Color("#FFFFFF"))
	lines := strings.Split(qr.HalfBlocks(m), "\n")
	for i, l := range lines {
		lines[i] = ink.Render(l)
	}
	return strings.Join(lines, "\n")
}

// qrRows is the height a QR code may take on the scan page: the body of
// an 80x24 window (20 lines) less the line under it.
const qrRows = 19

// groupSecret writes a base32 secret in groups of four, as apps show it.
func groupSecret(s string) string {
	var parts []string
	for len(s) > 4 {
		parts = append(parts, s[:4])
		s = s[4:]
	}
	return strings.Join(append(parts, s), " ")
}
