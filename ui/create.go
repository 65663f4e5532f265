package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"

	"misetup/api"
	"misetup/flows"
)

// newCreateScreen is step 5 when creating an account (GUIDE section 3):
// the method, the identifier with live validation, the password with its
// live checklist; the code comes next.
func newCreateScreen(sh *shared) *stepScreen {
	return newStepScreen(sh, flows.StepCreate, sh.createStep)
}

// createStep describes the create-account form. The phone number and the
// email address are two fields, one shown for each method; the country
// belongs to the phone number.
func (sh *shared) createStep() *step {
	regions := flows.Regions()
	countries := make([]string, len(regions))
	codes := make([]string, len(regions))
	for i, r := range regions {
		countries[i] = fmt.Sprintf("%s (+%d)", sh.tr.TOr("country."+r.Code, r.Code), r.CallingCode)
		codes[i] = r.Code
	}
	method := 0
	if sh.wiz.Method == api.MethodEmail {
		method = 1
	}
	byPhone := func(v values) bool { return v.index("method") == 0 }
	byEmail := func(v values) bool { return v.index("method") == 1 }
	region := flows.RegionIndex(sh.wiz.Region)
	typed := map[string]string{}
	if id := sh.wiz.Identifier; id != "" {
		typed[flows.MethodOf(id)] = id
	}
	reg := func(v values) flows.Registration {
		r := flows.Registration{Method: api.MethodPhone, Identifier: v.text("phone"), Region: regions[max(v.index("region"), 0)].Code,
			Language: sh.tr.Lang(), Password: v.text("password"), Confirm: v.text("confirm"), CommonRefused: sh.wiz.CommonRefused}
		if byEmail(v) {
			r.Method, r.Identifier = api.MethodEmail, v.text("email")
		}
		return r
	}
	identifier := func(v values) (string, error) {
		r := reg(v)
		return flows.ValidateIdentifier(r.Method, r.Identifier, r.Region)
	}
	live := func(sh *shared, v string) { sh.wiz.Identifier = v }
	status := func(v values, focused, left bool) (lipgloss.Style, string) {
		return sh.identifierNote(reg(v), focused, left)
	}
	return &step{
		fields: append([]field{
			{key: "method", kind: fieldChoice, label: sh.T("create.method"), options: []string{sh.T("create.by_phone"), sh.T("create.by_email")},
				value: strconv.Itoa(method), live: func(sh *shared, v string) {
					sh.wiz.Method = api.MethodPhone
					if v == "1" {
						sh.wiz.Method = api.MethodEmail
					}
				}},
			{key: "region", kind: fieldSpin, label: sh.T("create.country"), options: countries, choices: codes, only: byPhone,
				value: strconv.Itoa(region), from: sh.regionByStore(regions[region].Code),
				live: func(sh *shared, v string) { sh.wiz.Region = regions[values{"r": v}.index("r")].Code }},
			{key: "phone", kind: fieldText, label: sh.T("create.phone"), placeholder: sh.T("create.phone_placeholder"), limit: 254,
				value: typed[api.MethodPhone], only: byPhone, live: live, status: status, statusGap: true,
				on: []string{flows.ErrKeyPhoneInvalid, flows.ErrKeyIdentifierEmpty, "identifier"}},
			{key: "email", kind: fieldText, label: sh.T("create.email"), placeholder: sh.T("create.email_placeholder"), limit: 254,
				value: typed[api.MethodEmail], only: byEmail, live: live, status: status, statusGap: true,
				on: []string{flows.ErrKeyEmailInvalid, flows.ErrKeyEmailSpace, flows.ErrKeyIdentifierEmpty, "identifier"}},
		}, sh.newPasswordFields("create.password")...),
		start:  map[bool]string{false: "phone", true: "email"}[method == 1],
		submit: sh.T("create.submit"), busy: sh.T("create.sending"),
		actions: sh.handOffAction(api.PurposeRegistration),
		foot:    func() string { return sh.paragraph(sh.st.Muted, sh.T("create.code_note"), 0) },
		// Checked here first, so a form error never waits for the network.
		check: func(v values) error {
			if _, err := identifier(v); err != nil {
				return err
			}
			return sh.checkNewPassword(v)
		},
		enterMoves: true, keepSecrets: true,
		failed: noteCommonRefusal,
		run: func(ctx context.Context, v values) (outcome, error) {
			r := reg(v)
			ch, err := flows.Register(ctx, sh.deps.Accounts, r)
			if err != nil {
				return outcome{}, err
			}
			return outcome{to: flows.StepCode, sent: &ch, apply: func(sh *shared) {
				sh.wiz.Method, sh.wiz.Identifier, sh.wiz.Region = r.Method, strings.TrimSpace(r.Identifier), r.Region
				sh.wiz.Challenge, sh.wiz.Registration = &ch, &r
			}}, nil
		},
	}
}

// identifierNote is the live line under the identifier of r, in its
// style: the number as it will be dialled, or what is wrong. An error is
// said in full once the field was left or no longer has the focus (or is
// wrong whatever comes next, a space in an email address); while typing,
// "keep typing".
func (sh *shared) identifierNote(r flows.Registration, focused, left bool) (lipgloss.Style, string) {
	v := strings.TrimSpace(r.Identifier)
	if v == "" {
		return sh.st.Muted, ""
	}
	_, err := flows.ValidateIdentifier(r.Method, r.Identifier, r.Region)
	if r.Method == api.MethodEmail {
		switch {
		case err == nil:
			return sh.st.OK, markOK + " " + sh.T("create.email_ok")
		case left || !focused || flows.Definite(err):
			return sh.st.Fail, errorText(sh, err)
		}
		return sh.st.Muted, sh.T("create.keep_typing")
	}
	shown := flows.FormatPhone(v, r.Region)
	switch {
	case err == nil:
		e164, _ := flows.ParsePhone(v, r.Region)
		return sh.st.OK, markOK + " " + flows.FormatPhone(e164, "")
	case left || !focused:
		return sh.st.Fail, errorText(sh, err)
	}
	return sh.st.Muted, shown + "  " + sh.T("create.keep_typing")
}
