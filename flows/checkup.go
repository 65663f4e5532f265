package flows

import (
	"slices"
	"time"

	"misetup/api"
)

// Security checkup items (GUIDE section 10), in the order the checkup
// shows them.
const (
	CheckupTwoStep    = "two_step"    // two-step verification is on
	CheckupRecovery   = "recovery"    // a verified recovery email or phone
	CheckupDevices    = "devices"     // no linked device unseen for StaleAfter
	CheckupFindDevice = "find_device" // Find Device is on for this device
)

// CheckupItems lists the checkup items in order.
func CheckupItems() []string {
	return []string{CheckupTwoStep, CheckupRecovery, CheckupDevices, CheckupFindDevice}
}

// StaleAfter is how long a linked device may go unseen before the checkup
// suggests removing it.
const StaleAfter = 90 * 24 * time.Hour

// CheckupItem is one item of the security checkup: whether it passed and
// the facts a screen needs to explain it.
type CheckupItem struct {
	ID string
	OK bool

	// CheckupRecovery: the verified recovery contacts, masked as the
	// service shows them; "" when not set.
	RecoveryEmail, RecoveryPhone string
	// CheckupDevices: the other devices unseen for StaleAfter, longest
	// unseen first.
	Stale []api.Device
	// CheckupFindDevice: this device as the service lists it; nil when it
	// is not linked to the account.
	Device *api.Device
}

// Checkup is the result of the security checkup.
type Checkup struct {
	Items []CheckupItem // in CheckupItems order
}

// Score is how many items passed, of how many.
func (c Checkup) Score() (passed, total int) {
	for _, it := range c.Items {
		if it.OK {
			passed++
		}
	}
	return passed, len(c.Items)
}

// Item returns the item with the id.
func (c Checkup) Item(id string) (CheckupItem, bool) {
	for _, it := range c.Items {
		if it.ID == id {
			return it, true
		}
	}
	return CheckupItem{}, false
}

// SecurityCheckup scores an account against GUIDE section 10: its two-step
// verification, its recovery contacts (the service lists one only once its
// code was verified), its linked devices as of now, and Find Device on the
// device thisDevice (this machine's device id; "" takes the one the service
// marks current, the device of the session). It calls nothing: the
// caller reads the account and the devices first.
//
// A device with no last_seen is not counted stale: nothing says how long
// it has been unseen. This device is never stale, being in use now.
func SecurityCheckup(acc api.Account, devices []api.Device, thisDevice string, now time.Time) Checkup {
	recovery := CheckupItem{
		ID:            CheckupRecovery,
		OK:            acc.RecoveryEmail != "" || acc.RecoveryPhone != "",
		RecoveryEmail: acc.RecoveryEmail,
		RecoveryPhone: acc.RecoveryPhone,
	}
	var stale []api.Device
	var this *api.Device
	for _, d := range devices {
		if d.ID == thisDevice || thisDevice == "" && d.Current {
			this = &d
			continue
		}
		if d.LastSeen != nil && now.Sub(*d.LastSeen) >= StaleAfter {
			stale = append(stale, d)
		}
	}
	slices.SortStableFunc(stale, func(a, b api.Device) int { return a.LastSeen.Compare(*b.LastSeen) })
	return Checkup{Items: []CheckupItem{
		{ID: CheckupTwoStep, OK: acc.TOTPEnabled},
		recovery,
		{ID: CheckupDevices, OK: len(stale) == 0, Stale: stale},
		{ID: CheckupFindDevice, OK: this != nil && this.FindDevice, Device: this},
	}}
}
