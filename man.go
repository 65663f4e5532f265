package main

import (
	"fmt"

	mcobra "github.com/muesli/mango-cobra"
	"github.com/muesli/roff"
	"github.com/spf13/cobra"
)

func newManCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "man",
		Short: "Print misetup's man page (roff), to install with man",
		Long: `man prints misetup's manual page in roff, the format man reads: every command with
its flags and examples. Install it where man looks, for example:

  misetup man | gzip > ~/.local/share/man/man1/misetup.1.gz`,
		Example: `  misetup man | man -l -
  misetup man | gzip > ~/.local/share/man/man1/misetup.1.gz`,
		Args:                  cobra.NoArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			page, err := mcobra.NewManPage(1, cmd.Root())
			if err != nil {
				return fmt.Errorf("man page: %w", err)
			}
			page = page.WithSection("Files", "$XDG_CONFIG_HOME/misetup/config.toml: the configuration.\n"+
				"$XDG_DATA_HOME/misetup/misetup.db: the built-in service's accounts.\n"+
				"$XDG_STATE_HOME/misetup/: progress, the session, the outbox of codes.")
			_, err = fmt.Fprint(cmd.OutOrStdout(), page.Build(roff.NewDocument()))
			return err
		},
	}
}
