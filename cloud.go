package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/adrg/xdg"
	"github.com/spf13/cobra"

	"misetup/api"
	"misetup/assets"
	"misetup/client"
	"misetup/flows"
	"misetup/flows/micloud"
)

func newCloudCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cloud",
		Short: "Mi Cloud on this device: what is backed up, and sync now",
		Long: `cloud shows and runs Mi Cloud on this device. Each category the device syncs is a
folder of real files, synced both ways with the account:

  contacts   ~/Contacts, .vcf files          calendar   ~/Calendar, .ics files
  notes      ~/Documents/Notes, .md and .txt gallery    the Pictures folder
  recorder   ~/Music/Recordings              browser    ~/bookmarks.html (exported)

Without an exported bookmarks.html, Firefox's bookmarks are exported there (read from a
copy of its places.sqlite; Firefox's own files are never written). Messages and call
history are a phone's: a computer has none to sync. Each path can be
set in the config file's [cloud] table (contacts = "/path"; an empty path turns the
category off here). A change made on both sides keeps both: this device's version as a
copy named after it. The categories, "Sync automatically" and "Sync over Wi-Fi only"
are the device's Mi Cloud settings (the wizard's Mi Cloud step).`,
		Args: cobra.NoArgs,
	}
	var serverURL string
	cmd.PersistentFlags().StringVar(&serverURL, "server", "", "the address of a misetup account service (env MISETUP_SERVER); default: in-process")

	var asJSON bool
	status := &cobra.Command{
		Use:   "status",
		Short: "Last sync, pending changes, conflicts and use per category",
		Example: `  misetup cloud status
  misetup cloud status --json`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cloudConfig(cmd, serverURL)
			if err != nil {
				return err
			}
			return cloudStatus(cmd.Context(), cfg, asJSON, cmd.OutOrStdout())
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")

	var once bool
	var every time.Duration
	sync := &cobra.Command{
		Use:   "sync",
		Short: "Sync the chosen categories now, and keep them in sync",
		Long: `sync sends this device's changes to Mi Cloud and brings the account's, for the
categories the device syncs, with a progress bar on long transfers. Without --once it
goes on, syncing again every --every, until stopped (ctrl+c or SIGTERM); an interrupted
transfer resumes where it stopped. "Sync over Wi-Fi only" holds on mobile data; on a
wired or unknown network it says what it assumed and syncs.`,
		Example: `  misetup cloud sync --once
  misetup cloud sync --every 10m`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cloudConfig(cmd, serverURL)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return cloudSync(ctx, cfg, once, every, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	sync.Flags().BoolVar(&once, "once", false, "sync once, then stop")
	sync.Flags().DurationVar(&every, "every", 5*time.Minute, "time between two syncs without --once")
	cmd.AddCommand(status, sync)
	return cmd
}

// cloudConfig loads the config with --server applied.
func cloudConfig(cmd *cobra.Command, serverURL string) (*config, error) {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return nil, err
	}
	if serverURL != "" {
		cfg.Server = serverURL
	}
	return cfg, nil
}

// folders are this device's Mi Cloud folders: the XDG user dirs, with the
// config's [cloud] paths over them.
func (c *config) folders() []micloud.Folder {
	dirs := micloud.Dirs{Home: xdg.Home, Documents: xdg.UserDirs.Documents, Pictures: xdg.UserDirs.Pictures, Music: xdg.UserDirs.Music}
	return micloud.DefaultFolders(dirs, c.Cloud)
}

// deviceSession is this device signed in: its client and id, and what to
// close after.
type deviceSession struct {
	c        *client.Client
	deviceID string
	where    string // the service, for messages
	close    func() error
}

// errNotSignedIn: this device has no session; its commands exit with
// exitSignedOut, as restarting them will not help.
var errNotSignedIn = errors.New("this device is not signed in: run misetup and sign in first")

// openDevice opens this device's session on the configured service (the
// built-in one when none): exitSignedOut when it has none.
func openDevice(ctx context.Context, cfg *config, ua string) (*deviceSession, error) {
	files := flows.Files{Dir: cfg.stateDir}
	token, err := files.LoadToken()
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, errNotSignedIn
	}
	deviceID, err := files.DeviceID()
	if err != nil {
		return nil, err
	}
	opts := []client.Option{client.WithUserAgent(ua), client.WithToken(token)}
	if cfg.Server != "" {
		return &deviceSession{c: client.New(cfg.Server, opts...), deviceID: deviceID, where: cfg.Server, close: func() error { return nil }}, nil
	}
	srv, closeFn, err := cfg.openService(ctx, cfg.serviceLog())
	if err != nil {
		return nil, fmt.Errorf("open the built-in service: %w", err)
	}
	return &deviceSession{c: client.New("", append(opts, client.WithHandler(srv))...), deviceID: deviceID,
		where: "built-in service (store " + redactDSN(cfg.Serve.DB) + ")", close: closeFn}, nil
}

// cloudStatus prints misetup cloud status.
func cloudStatus(ctx context.Context, cfg *config, asJSON bool, out io.Writer) error {
	folders := cfg.folders()
	var used map[string]int64
	var settings *api.SyncSettings
	if ds, err := openDevice(ctx, cfg, "misetup-cloud/"+api.Version); err == nil {
		defer ds.close()
		if st, err := ds.c.Storage(ctx); err == nil {
			used = st.ByCategory
		}
		if s, err := ds.c.Sync(ctx, ds.deviceID); err == nil {
			settings = &s
		}
	}
	st, err := micloud.Status(cfg.stateDir, folders, used)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Settings   *api.SyncSettings        `json:"settings,omitempty"`
			Categories []micloud.CategoryStatus `json:"categories"`
		}{settings, st})
	}
	cat := assets.MustLoad(assets.DefaultLanguage)
	if settings != nil {
		fmt.Fprintf(out, "Sync automatically: %s · Wi-Fi only: %s · chosen: %s\n\n", onOff(settings.AutoSync), onOff(settings.WifiOnly), strings.Join(settings.Categories, ", "))
	}
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "category\tfolder\tlast sync\titems\tpending\tconflicts\tin Mi Cloud")
	for _, c := range st {
		name := cat.T("sync.cat." + c.Category)
		if c.Root == "" {
			fmt.Fprintf(tw, "%s\tnot on this computer\t\t\t\t\t%s\n", name, flows.FormatBytes(c.Used))
			continue
		}
		last := "never"
		if !c.LastSync.IsZero() {
			last = c.LastSync.Local().Format("2006-01-02 15:04")
		}
		if c.LastError != "" {
			last += " (stopped: " + c.LastError + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\n", name, tildeHome(c.Root), last, c.Items, c.Pending, c.Conflicts, flows.FormatBytes(c.Used))
	}
	return tw.Flush()
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// tildeHome writes a path under the home folder with ~.
func tildeHome(p string) string {
	if h := xdg.Home; h != "" && strings.HasPrefix(p, h+string(os.PathSeparator)) {
		return "~" + p[len(h):]
	}
	return p
}

// cloudSync runs misetup cloud sync.
func cloudSync(ctx context.Context, cfg *config, once bool, every time.Duration, out, errOut io.Writer) error {
	ds, err := openDevice(ctx, cfg, "misetup-cloud/"+api.Version)
	if errors.Is(err, errNotSignedIn) {
		fmt.Fprintln(errOut, err)
		return exitCode(exitSignedOut)
	}
	if err != nil {
		return err
	}
	defer ds.close()
	name := ds.deviceID
	if d, err := ds.c.Devices(ctx); err == nil {
		for _, dev := range d {
			if dev.ID == ds.deviceID {
				name = dev.Name
			}
		}
	}
	bar := newProgressBar(os.Stderr) // a terminal's own, not the trimmed writer of messages
	syncer := &micloud.Syncer{Remote: ds.c, StateDir: cfg.stateDir, Device: name, Progress: bar.show}
	say := func(line string) { fmt.Fprintln(out, line) }
	for {
		failed, err := syncPass(ctx, cfg, ds, syncer, true, say, bar.done)
		if err != nil || ctx.Err() != nil {
			return err // stopped: the next sync goes on from here
		}
		if once {
			if failed != nil {
				return exitCode(1)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
	}
}

// syncPass syncs the categories this device syncs now, once, and says what
// each did; force syncs with "Sync automatically" off (asked for by the
// person). It returns the last category's failure (the others went on),
// and an error when the settings could not be read.
func syncPass(ctx context.Context, cfg *config, ds *deviceSession, syncer *micloud.Syncer, force bool, say func(string), after func()) (failed, err error) {
	settings, err := ds.c.Sync(ctx, ds.deviceID)
	if err != nil {
		return nil, fmt.Errorf("read this device's Mi Cloud settings: %w", err)
	}
	cat := assets.MustLoad(assets.DefaultLanguage)
	kind, _ := (flows.System{Root: "/"}).Network()
	plan := micloud.PlanSync(settings, cfg.folders(), kind, force)
	for _, m := range plan.Missing {
		say(cat.T("sync.cat."+m) + ": not on this computer")
	}
	for _, t := range []flows.Text{plan.Assumed, plan.Wait} {
		if !t.IsZero() {
			say(cat.T(t.Key, t.Args...))
		}
	}
	for _, f := range plan.Folders {
		if f.Only != "" { // the browser: Firefox's bookmarks, when none were exported by hand
			dst := filepath.Join(f.Root, f.Only)
			if wrote, err := micloud.ExportFirefoxBookmarks(xdg.Home, dst); err != nil {
				say(cat.T("sync.cat."+f.Category) + ": Firefox's bookmarks could not be read: " + err.Error())
			} else if wrote {
				say(cat.T("sync.cat."+f.Category) + ": Firefox's bookmarks exported to " + tildeHome(dst))
			}
		}
		rep, err := syncer.Sync(ctx, f)
		if after != nil {
			after()
		}
		if ctx.Err() != nil {
			return nil, nil
		}
		say(reportLine(cat, rep, err))
		if err != nil {
			failed = err
		}
	}
	return failed, nil
}

// cloudRestorer is the wizard's "Restore from Mi Cloud" on this device's
// folders (ui.Restorer).
type cloudRestorer struct {
	remote   micloud.Remote
	stateDir string
	folders  []micloud.Folder
}

// Backups are what the account keeps for this device's folders.
func (r cloudRestorer) Backups(ctx context.Context) ([]micloud.Backup, error) {
	return micloud.Backups(ctx, r.remote, r.folders)
}

// Restore brings the categories down, one after another.
func (r cloudRestorer) Restore(ctx context.Context, categories []string, progress func(micloud.Progress)) error {
	s := &micloud.Syncer{Remote: r.remote, StateDir: r.stateDir, Progress: progress}
	for _, c := range categories {
		if f, ok := micloud.FolderOf(r.folders, c); ok {
			if _, err := s.Restore(ctx, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// reportLine says what a category's sync did.
func reportLine(cat *assets.Catalog, r micloud.Report, err error) string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(r.Uploaded, "up")
	add(r.Downloaded, "down")
	add(r.DeletedThere, "deleted in Mi Cloud")
	add(r.DeletedHere, "deleted here")
	if n := len(r.Conflicts); n > 0 {
		parts = append(parts, fmt.Sprintf("changed on both sides, both kept: %s", strings.Join(r.Conflicts, ", ")))
	}
	line := cat.T("sync.cat."+r.Category) + ": "
	switch {
	case err != nil:
		ue := flows.Explain(err)
		line += "stopped: " + cat.T(ue.Key, append(ue.Args, "server", "the account service")...)
		if ue.Key == flows.ErrKeyUnknown {
			line += " (" + err.Error() + ")"
		}
	case len(parts) == 0:
		line += "in sync"
	default:
		line += strings.Join(parts, ", ") + fmt.Sprintf(" (%s in %s)", flows.FormatBytes(r.Bytes), r.Took.Round(time.Millisecond))
	}
	return line
}
