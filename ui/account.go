package ui

import (
	"context"

	"misetup/flows"
)

// accountStep is step 4 (GUIDE section 3, "Select Sign in or Create
// account"): s or c, or the highlighted one with enter. One description,
// drawn full screen by stepView and as plain prompts by plain.runStep.
func (sh *shared) accountStep() *step {
	return &step{
		fields: []field{{key: "how", kind: fieldMenu, label: sh.T("account.intro"),
			options:    []string{sh.T("account.sign_in"), sh.T("account.create")},
			details:    []string{sh.T("account.sign_in_desc"), sh.T("account.create_desc")},
			hotkeys:    []string{"s", "c"},
			hotkeyHelp: []string{"key.sign_in", "key.create"},
		}},
		foot:     func() string { return sh.paragraph(sh.st.Muted, sh.T("account.keys_hint"), 0) },
		keepFoot: true,
		footKeys: true,
		instant:  true,
		run: func(_ context.Context, v values) (outcome, error) {
			if v.index("how") == 1 {
				return outcome{to: flows.StepCreate}, nil
			}
			return outcome{to: flows.StepSignIn}, nil
		},
	}
}
