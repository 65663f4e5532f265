package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestKioskInTmux runs misetup --kiosk as a store terminal does, in tmux:
// the staff PIN set with misetup kiosk pin; a customer creates an account,
// then walks away; "Still there?" counts down and the terminal starts over
// with nothing of the customer on the screen, in the scrollback or in a
// file; ctrl+c leaves only with the PIN.
func TestKioskInTmux(t *testing.T) {
	endToEnd(t, "tmux")
	bin := buildMisetup(t)
	tm, xdg := e2eMachine(t)
	const email, password = "walk.away@example.com", "Tr1cky#Pass"

	// Staff: the PIN, and short clocks for the test.
	config := filepath.Join(xdg("config"), "misetup", "config.toml")
	if err := os.MkdirAll(filepath.Dir(config), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(config, []byte("# the store's kiosk\n[kiosk]\nstore = \"store-7\"\nidle = \"4s\"\ncountdown = \"3s\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pin := exec.Command(bin, "kiosk", "pin")
	pin.Env, pin.Stdin = tm.env, strings.NewReader("2468\n2468\n")
	if out, err := pin.CombinedOutput(); err != nil || !strings.Contains(string(out), "The staff PIN is set") {
		t.Fatalf("misetup kiosk pin: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(config)
	if !strings.Contains(string(b), "pin_hash = \"$argon2id$") || strings.Contains(string(b), "2468") ||
		!strings.Contains(string(b), "# the store's kiosk") || !strings.Contains(string(b), `store = "store-7"`) {
		t.Fatalf("the config after misetup kiosk pin:\n%s", b)
	}

	// A customer.
	tm.toCreateAccount(bin + " --kiosk")
	tm.createByEmail(email, password)
	tm.waitFlat("We sent a 6-digit code by email")
	tm.typeText(lastCode(t, filepath.Join(xdg("state"), "misetup", "outbox.jsonl"), email))
	tm.waitFlat("Your Mi Account is ready")

	// ...walks away.
	tm.waitLong("Still there?")
	tm.waitLong("Set up your Mi Account") // the welcome screen, for the next customer
	all := tm.tmux("capture-pane", "-p", "-S", "-", "-t", "e2e")
	if strings.Contains(all, "walk.away") || strings.Contains(all, "w***@example.com") {
		t.Errorf("the next customer can read the last one's address (screen and scrollback):\n%s", all)
	}
	tm.keys("Enter")
	tm.waitFlat("Step 2 of 8")

	// No file of misetup's holds the customer: no token, no progress. The
	// service's own store and outbox (it runs in-process here; a store runs
	// misetup serve) are where accounts and sent codes belong.
	for _, dir := range []string{xdg("state"), xdg("cache"), xdg("data"), xdg("config")} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil || d.IsDir() {
				return err
			}
			if name := d.Name(); name == "session" || name == "progress.json" {
				t.Errorf("kiosk mode wrote %s", path)
			}
			if base := d.Name(); strings.HasPrefix(base, "misetup.db") || base == "outbox.jsonl" {
				return nil
			}
			b, err := os.ReadFile(path)
			if bytes.Contains(b, []byte("walk.away")) {
				t.Errorf("%s holds the customer's address", path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// Leaving: ctrl+c asks for the staff PIN; a wrong one does not leave.
	tm.keys("C-c")
	tm.waitFlat("Staff only: leave kiosk mode")
	tm.typeText("1111")
	tm.keys("Enter")
	tm.waitFlat("That PIN is not right")
	tm.typeText("2468")
	tm.keys("Enter")
	tm.wait("EXIT=0")
}
