package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"misetup/api"
	"misetup/flows"
	"misetup/flows/agent"
	"misetup/flows/micloud"
)

// exitSignedOut is the agent's exit status when this device has no
// session (never signed in, signed out, removed): restarting will not
// help until someone signs in, so the systemd unit does not restart it.
const exitSignedOut = 3

func newAgentCmd() *cobra.Command {
	var serverURL string
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Carry out this device's Find Device commands: ring, lock, locate, erase",
		Long: `agent is the device side of Find Device. It runs on a linked device with the session
the wizard saved there, waits for the commands sent to this device (from "misetup account"
on another device, or the web portal), carries each out and reports its result:

  ring    rings the terminal bell and shows a desktop notification (where notify-send exists)
  lock    shows the owner's message in misetup and ends misetup's session here, until
          the password is given again
  locate  reports the location set in the config file ([agent] location = "lat,lon"),
          else "unknown": it never makes one up
  erase   signs out and deletes misetup's own data for the account on this device
          (session, progress, cache, queued settings), nothing else; then the agent exits

It also saves the Mi Cloud and Find Device choices queued while the service could not be
reached. When the service goes away it tries again with growing pauses; it stops cleanly
on SIGTERM or ctrl+c. With no server named it opens the built-in service's store, the
same one the wizard uses.

The exit status is 0 when stopped or after an erase, 3 when this device has no session
(sign in with "misetup" first), 1 on any other failure.`,
		Example: `  misetup agent
  misetup agent --server http://127.0.0.1:8417
  MISETUP_LOCATION="39.9042,116.4074,50" misetup agent`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if serverURL != "" {
				cfg.Server = serverURL
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runAgent(ctx, cfg, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&serverURL, "server", "", "the address of a misetup account service, an http:// or https:// URL (env MISETUP_SERVER); default: in-process")
	return cmd
}

// runAgent runs the agent for this device until ctx ends.
func runAgent(ctx context.Context, cfg *config, stdout, stderr io.Writer) error {
	logger := log.New(stderr, "", log.LstdFlags)
	if cfg.Agent.Location != "" {
		if _, err := agent.ParseLocation(cfg.Agent.Location); err != nil {
			return fmt.Errorf("[agent] location (or MISETUP_LOCATION): %w", err)
		}
	}
	ds, err := openDevice(ctx, cfg, "misetup-agent/"+api.Version) // cloud.go
	if errors.Is(err, errNotSignedIn) {
		logger.Print(err)
		return exitCode(exitSignedOut)
	}
	if err != nil {
		return err
	}
	defer ds.close()
	c, deviceID := ds.c, ds.deviceID
	logger.Printf("device %s, %s", deviceID, ds.where)
	go cloudLoop(ctx, cfg, ds, logger.Printf)

	queue := flows.QueueIn(cfg.stateDir)
	err = agent.Run(ctx, agent.Config{
		Service:   c,
		DeviceID:  deviceID,
		Redeliver: true,
		Queue:     &queue,
		Saver:     c,
		Logf:      logger.Printf,
		Device: agent.Local{
			StateDir: cfg.stateDir,
			CacheDir: cfg.cacheDir,
			Location: cfg.Agent.Location,
			Bell:     terminalBell(stdout),
			Notify:   desktopNotifier(),
			SignOut:  c.SignOut,
			Logf:     logger.Printf,
		},
	})
	switch {
	case errors.Is(err, agent.ErrSignedOut):
		logger.Print(err)
		return exitCode(exitSignedOut)
	case errors.Is(err, agent.ErrErased):
		logger.Print(err)
		return nil
	}
	return err
}

// cloudEvery is how often the agent syncs Mi Cloud.
const cloudEvery = 5 * time.Minute

// cloudLoop syncs this device's Mi Cloud categories now and every
// cloudEvery while "Sync automatically" is on, until ctx ends; it logs
// what moved and what stopped a category, and says a reason to wait once.
// A device whose Mi Cloud settings were never chosen is left alone.
func cloudLoop(ctx context.Context, cfg *config, ds *deviceSession, logf func(string, ...any)) {
	name := ds.deviceID
	if devs, err := ds.c.Devices(ctx); err == nil {
		for _, d := range devs {
			if d.ID == ds.deviceID {
				name = d.Name
			}
		}
	}
	syncer := &micloud.Syncer{Remote: ds.c, StateDir: cfg.stateDir, Device: name}
	said := map[string]bool{}
	for {
		if s, err := ds.c.Sync(ctx, ds.deviceID); err == nil && s.UpdatedAt != nil {
			_, err := syncPass(ctx, cfg, ds, syncer, false, func(line string) {
				if strings.HasSuffix(line, ": in sync") || said[line] && !strings.Contains(line, " up") && !strings.Contains(line, " down") {
					return
				}
				said[line] = true
				logf("Mi Cloud: %s", line)
			}, nil)
			if err != nil {
				logf("Mi Cloud: %v", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(cloudEvery):
		}
	}
}

// terminalBell rings the terminal when stdout is one; nil otherwise.
func terminalBell(stdout io.Writer) func() error {
	if u, ok := stdout.(interface{ Unwrap() io.Writer }); ok {
		stdout = u.Unwrap() // the bell is no line: past the line filter
	}
	if !isTerminal(stdout) {
		return nil
	}
	return func() error {
		_, err := io.WriteString(stdout, "\a")
		return err
	}
}

// desktopNotifier shows a notification with notify-send, when it is
// installed; nil otherwise (never a failure).
func desktopNotifier() func(title, body string) error {
	path, err := exec.LookPath("notify-send")
	if err != nil {
		return nil
	}
	return func(title, body string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, path, "--app-name=misetup", "--urgency=critical", title, body).CombinedOutput()
		if err != nil {
			return fmt.Errorf("notify-send: %w %s", err, out)
		}
		return nil
	}
}
