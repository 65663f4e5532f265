package main

import (
	"github.com/spf13/cobra"
)

// newAccountCmd is misetup account: the hub after set-up, in the wizard's
// frame and with its flags (full screen, or plain prompts without a
// terminal or with --accessible).
func newAccountCmd() *cobra.Command {
	var flags wizardFlags
	cmd := &cobra.Command{
		Use:   "account",
		Short: "Your Mi Account after set-up: security checkup, profile, password, devices and Find Device, two-step verification, recovery contacts, storage",
		Long: `misetup account opens your Mi Account on this device, signed in with the session the wizard
kept. It starts with a security checkup (two-step verification, a recovery email or phone,
devices unseen for 90 days, Find Device here); each missing item is one key from its fix.

From it: edit the profile; change the password (other devices are signed out); see the
linked devices, rename or remove them, and locate, ring, lock or erase one through Find
Device, following each command until the device answers (misetup agent carries them out
there); turn two-step verification on with a QR code for an authenticator app; add a
recovery email or phone; see the storage used.`,
		Example: `  misetup account
  misetup account --server http://127.0.0.1:8417
  misetup account --accessible`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWizardCmd(cmd, flags, true)
		},
	}
	wizardFlagSet(cmd, &flags)
	return cmd
}
