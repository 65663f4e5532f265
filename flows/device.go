package flows

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"misetup/api"
)

// DeviceInfo is what the wizard says about this device: the person may edit
// each field before it is sent with the sign-in.
type DeviceInfo struct {
	Name  string `json:"name"`
	Model string `json:"model"`
	OS    string `json:"os"`
}

// System reads facts from the machine. Root is the filesystem root ("/" in
// production, a t.TempDir() in tests) under which /sys, /proc and /etc are
// read; Hostname returns the host name (os.Hostname in production).
type System struct {
	Root     string
	Hostname func() (string, error)
}

func (s System) path(p string) string {
	root := s.Root
	if root == "" {
		root = "/"
	}
	return filepath.Join(root, filepath.FromSlash(p))
}

// Device reads the defaults for this device: the host name, the model from
// /sys/devices/virtual/dmi/id/product_name and the OS from /etc/os-release
// PRETTY_NAME. Missing facts are left empty.
func (s System) Device() DeviceInfo {
	var d DeviceInfo
	if s.Hostname != nil {
		if h, err := s.Hostname(); err == nil {
			d.Name = cleanText(h, 64)
		}
	}
	if b, err := os.ReadFile(s.path("sys/devices/virtual/dmi/id/product_name")); err == nil {
		d.Model = cleanText(string(b), 64)
	}
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		if v := osReleaseField(s.path(p), "PRETTY_NAME"); v != "" {
			d.OS = cleanText(v, 64)
			break
		}
	}
	return d
}

func osReleaseField(path, field string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || k != field {
			continue
		}
		if u, err := strconv.Unquote(v); err == nil {
			return u
		}
		return strings.Trim(v, `"'`)
	}
	return ""
}

// cleanText drops control, escape and bidi-override characters (text from the
// system or a server is drawn on a terminal), trims space and caps the length
// in characters.
func cleanText(s string, maxRunes int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes])
	}
	return s
}

// CleanText is the sanitiser the ui applies to every text from the service
// or the system before drawing it.
func CleanText(s string) string { return cleanText(s, 256) }

// ValidateDevice checks the answers of the device step and returns them
// cleaned.
func ValidateDevice(d DeviceInfo) (DeviceInfo, error) {
	d = DeviceInfo{Name: cleanText(d.Name, 64), Model: cleanText(d.Model, 64), OS: cleanText(d.OS, 64)}
	if d.Name == "" {
		return d, userErr(ErrKeyDeviceNameEmpty, nil)
	}
	return d, nil
}

// APIDevice is the device as sent with a sign-in.
func (d DeviceInfo) APIDevice(id string) api.Device {
	return api.Device{ID: id, Name: d.Name, Model: d.Model, OS: d.OS}
}
