package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"misetup/server/courier"
)

func newOutboxCmd() *cobra.Command {
	var follow, asJSON bool
	var last int
	cmd := &cobra.Command{
		Use:   "outbox",
		Short: "Show the verification codes the local courier delivered",
		Long: `outbox lists the messages (verification codes) that the outbox courier wrote to
$XDG_STATE_HOME/misetup/outbox.jsonl, newest last. With --follow it keeps
printing new ones as they arrive, until interrupted.`,
		Example: `  misetup outbox
  misetup outbox --follow
  misetup outbox --json | jq -r .body`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			show := func(m courier.Message) error { return printMessage(out, m, asJSON) }
			if follow {
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				err := courier.FollowOutbox(ctx, cfg.outboxPath(), true, 200*time.Millisecond, show)
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			msgs, err := courier.ReadOutbox(cfg.outboxPath())
			if err != nil {
				return err
			}
			if len(msgs) == 0 && !asJSON {
				fmt.Fprintf(cmd.ErrOrStderr(), "The outbox is empty (%s).\n", cfg.outboxPath())
				return nil
			}
			if last > 0 && len(msgs) > last {
				msgs = msgs[len(msgs)-last:]
			}
			for _, m := range msgs {
				if err := show(m); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new messages as they arrive")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print each message as a JSON object, one a line")
	cmd.Flags().IntVarP(&last, "last", "n", 0, "show only the last N messages")
	return cmd
}

// printMessage writes one message, as JSON or as a short block for people.
func printMessage(w io.Writer, m courier.Message, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(m)
	}
	_, err := fmt.Fprintf(w, "%s  %s to %s\n%s\n%s\n\n",
		m.Time.Local().Format("2006-01-02 15:04:05"), m.Channel, m.To, m.Subject, indent(m.Body))
	return err
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}
