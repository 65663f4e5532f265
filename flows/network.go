package flows

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// NetworkKind is the kind of network the default route goes through.
type NetworkKind string

// Kinds of network.
const (
	NetworkWiFi    NetworkKind = "wifi"
	NetworkWired   NetworkKind = "wired"
	NetworkMobile  NetworkKind = "mobile"
	NetworkUnknown NetworkKind = "unknown"
)

// Network reads the kind of network from the system: the interface of the
// default route (the lowest metric in /proc/net/route), then
// /sys/class/net/<iface>: a wireless/ directory or DEVTYPE=wlan in uevent is
// Wi-Fi; DEVTYPE=wwan, or a name starting with wwan, ppp or rmnet, is mobile
// data; anything else is wired. Without a default route it is unknown.
func (s System) Network() (NetworkKind, string) {
	iface := s.defaultRouteInterface()
	if iface == "" {
		return NetworkUnknown, ""
	}
	dir := "sys/class/net/" + iface
	if fi, err := os.Stat(s.path(dir + "/wireless")); err == nil && fi.IsDir() {
		return NetworkWiFi, iface
	}
	if fi, err := os.Stat(s.path(dir + "/phy80211")); err == nil && fi.IsDir() {
		return NetworkWiFi, iface
	}
	switch s.devtype(dir + "/uevent") {
	case "wlan":
		return NetworkWiFi, iface
	case "wwan":
		return NetworkMobile, iface
	}
	for _, p := range []string{"wwan", "ppp", "rmnet"} {
		if strings.HasPrefix(iface, p) {
			return NetworkMobile, iface
		}
	}
	return NetworkWired, iface
}

func (s System) devtype(path string) string {
	b, err := os.ReadFile(s.path(path))
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "DEVTYPE="); ok {
			return strings.ToLower(v)
		}
	}
	return ""
}

// defaultRouteInterface returns the interface of the default IPv4 route with
// the lowest metric, or "".
func (s System) defaultRouteInterface() string {
	b, err := os.ReadFile(s.path("proc/net/route"))
	if err != nil {
		return ""
	}
	best, bestMetric := "", -1
	sc := bufio.NewScanner(bytes.NewReader(b))
	for first := true; sc.Scan(); first = false {
		f := strings.Fields(sc.Text())
		if first || len(f) < 8 {
			continue // header: Iface Destination Gateway Flags RefCnt Use Metric Mask ...
		}
		flags, err := strconv.ParseUint(f[3], 16, 32)
		if err != nil || flags&1 == 0 { // RTF_UP
			continue
		}
		if f[1] != "00000000" || f[7] != "00000000" {
			continue
		}
		metric, err := strconv.Atoi(f[6])
		if err != nil {
			continue
		}
		if bestMetric < 0 || metric < bestMetric {
			best, bestMetric = f[0], metric
		}
	}
	return best
}
