package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"misetup/api"
	"misetup/flows"
)

// deviceView is a linked device as the pages show it.
type deviceView struct {
	api.Device
	Seen     string // "in use now", "seen 3 days ago"
	Browser  bool   // a web browser signed in to the portal: no Find Device
	Find     *api.FindDevice
	Location string // the last location in words, "" when none
	MapURL   string // the last location on a map, "" when none
}

// commandView is a Find Device command as the pages show it: one sentence
// for its state, the same on the page and in its live updates.
type commandView struct {
	ID, DeviceID, Type, State string
	Text                      string
	Ended, Failed             bool
	MapURL                    string
}

// storageView is the Mi Cloud storage bar.
type storageView struct {
	Used, Quota string
	Percent     int
	Categories  []categoryUse
}

type categoryUse struct{ Name, Size string }

// overview is the account's home: the security checkup, the linked devices
// with their Find Device state, and the storage.
func (p *Portal) overview(rq *req) {
	acc, err := rq.c.Account(rq.ctx)
	if err != nil {
		p.failed(rq, err)
		return
	}
	devs, err := rq.c.Devices(rq.ctx)
	if err != nil {
		p.failed(rq, err)
		return
	}
	v := view{Title: rq.T("hub.home.title"), Account: &acc, Notice: p.noticeOf(rq)}
	check := flows.SecurityCheckup(acc, devs, "", p.opts.Now())
	// Find Device is a setting of a phone or a computer, not of this
	// browser: the checkup here leaves that item to each device's line.
	check.Items = slices.DeleteFunc(check.Items, func(it flows.CheckupItem) bool { return it.ID == flows.CheckupFindDevice })
	v.Checkup = &check
	for _, d := range devs {
		v.Devices = append(v.Devices, p.deviceView(rq, d))
	}
	if st, err := rq.c.Storage(rq.ctx); err == nil {
		v.Storage = storageOf(rq, st)
	}
	rq.render("overview", v)
}

// CheckText is the sentence of a checkup item.
func (v view) CheckText(it flows.CheckupItem) string {
	state := "off"
	if it.OK {
		state = "on"
	}
	var names []string
	for _, d := range it.Stale {
		names = append(names, d.Name)
	}
	contact := it.RecoveryEmail
	if contact == "" {
		contact = it.RecoveryPhone
	}
	return v.T("hub.check."+it.ID+"."+state, "contact", contact, "names", strings.Join(names, ", "))
}

// CheckFix is the link that fixes a failed checkup item.
func (v view) CheckFix(it flows.CheckupItem) link {
	switch it.ID {
	case flows.CheckupTwoStep:
		return link{"/two-step", v.T("hub.fix.two_step")}
	case flows.CheckupRecovery:
		return link{"/recovery", v.T("hub.fix.recovery")}
	case flows.CheckupDevices:
		return link{"#devices", v.T("hub.fix.devices", "n", len(it.Stale))}
	}
	return link{}
}

// link is a link and its words.
type link struct{ Href, Text string }

// Score is the checkup's "n of m" line.
func (v view) Score() string {
	n, m := v.Checkup.Score()
	return v.T("hub.checkup", "n", n, "m", m)
}

// deviceView describes d for the pages.
func (p *Portal) deviceView(rq *req, d api.Device) deviceView {
	dv := deviceView{Device: d, Browser: strings.HasPrefix(d.ID, "web-")}
	switch {
	case d.Current:
		dv.Seen = rq.T("hub.seen.now")
	case d.LastSeen == nil:
		dv.Seen = rq.T("hub.seen.never")
	default:
		days := int(p.opts.Now().Sub(*d.LastSeen) / (24 * time.Hour))
		if days < 1 {
			dv.Seen = rq.T("hub.seen.today")
		} else {
			dv.Seen = rq.T("hub.seen.days", "n", days)
		}
	}
	return dv
}

// locationText is a location in words and its link on a map.
func (p *Portal) locationText(rq *req, l *api.Location) (string, string) {
	if l == nil {
		return "", ""
	}
	mins := int(p.opts.Now().Sub(l.ReportedAt) / time.Minute)
	text := rq.T("hub.location", "lat", fmt.Sprintf("%.5f", l.Lat), "lon", fmt.Sprintf("%.5f", l.Lon), "min", max(mins, 0))
	mapURL := fmt.Sprintf("https://www.openstreetmap.org/?mlat=%.6f&mlon=%.6f#map=16/%.6f/%.6f", l.Lat, l.Lon, l.Lat, l.Lon)
	return text, mapURL
}

// device finds the device of the path's {id}, or answers 404.
func (p *Portal) device(rq *req) (deviceView, bool) {
	devs, err := rq.c.Devices(rq.ctx)
	if err != nil {
		p.failed(rq, err)
		return deviceView{}, false
	}
	id := rq.r.PathValue("id")
	for _, d := range devs {
		if d.ID == id {
			return p.deviceView(rq, d), true
		}
	}
	p.notFound(rq.w, rq.r)
	return deviceView{}, false
}

// devicePage shows one device, where it was last seen, and its Find Device
// actions: locate, ring, lock with a message, erase after the password.
func (p *Portal) devicePage(rq *req) {
	p.drawDevice(rq, nil, p.noticeOf(rq), nil)
}

// drawDevice draws the device page, with an error of one of its forms.
func (p *Portal) drawDevice(rq *req, ev *errView, notice string, form map[string]string) {
	dv, ok := p.device(rq)
	if !ok {
		return
	}
	if !dv.Browser {
		if fd, err := rq.c.FindDevice(rq.ctx, dv.ID); err == nil {
			dv.Find = &fd
			dv.Location, dv.MapURL = p.locationText(rq, fd.LastLocation)
		}
	}
	rq.render("device", view{Title: dv.Name, Device: &dv, Err: ev, Notice: notice, Form: form})
}

// setFindDevice turns Find Device on or off for a device.
func (p *Portal) setFindDevice(rq *req) {
	id := rq.r.PathValue("id")
	on := rq.form("enabled") == "on"
	if _, err := rq.c.SetFindDevice(rq.ctx, id, on); err != nil {
		p.formFailed(rq, err, nil)
		return
	}
	rq.redirect("/devices/" + url.PathEscape(id) + "?done=find")
}

// sendCommand sends a Find Device command and shows its state.
func (p *Portal) sendCommand(rq *req) {
	dv, ok := p.device(rq)
	if !ok {
		return
	}
	kind := rq.form("type")
	if !slices.Contains([]string{flows.CommandLocate, flows.CommandRing, flows.CommandLock, flows.CommandErase}, kind) {
		p.notFound(rq.w, rq.r)
		return
	}
	cmd, err := flows.SendCommand(rq.ctx, rq.c, dv.Device, kind, rq.form("message"), rq.form("password"), rq.form("name"))
	if err != nil {
		p.formFailed(rq, err, map[string]string{"form": kind, "message": rq.form("message")})
		return
	}
	rq.redirect("/devices/" + url.PathEscape(dv.ID) + "/commands/" + url.PathEscape(cmd.ID))
}

// formFailed draws the device page again with what went wrong.
func (p *Portal) formFailed(rq *req, err error, form map[string]string) {
	ev, gone := rq.explain(err)
	if gone {
		return
	}
	p.drawDevice(rq, ev, "", form)
}

// removeDevice unlinks a device; removing this browser signs it out.
func (p *Portal) removeDevice(rq *req) {
	dv, ok := p.device(rq)
	if !ok {
		return
	}
	if err := flows.RemoveDevice(rq.ctx, rq.c, dv.ID); err != nil {
		p.formFailed(rq, err, nil)
		return
	}
	if dv.Current {
		rq.signedOut()
		rq.redirect("/signin?out=1")
		return
	}
	rq.redirect("/account?done=removed")
}

// commandPage shows a command's state; with script on, it follows it live.
func (p *Portal) commandPage(rq *req) {
	dv, ok := p.device(rq)
	if !ok {
		return
	}
	cv, err := p.command(rq, dv)
	if err != nil {
		p.failed(rq, err)
		return
	}
	rq.render("command", view{Title: rq.T("hub.command.title", "action", rq.T("hub.action."+cv.Type), "name", dv.Name), Device: &dv, Command: &cv})
}

// commandState answers a command's state as JSON, for the page's script.
func (p *Portal) commandState(rq *req) {
	dv, ok := p.device(rq)
	if !ok {
		return
	}
	cv, err := p.command(rq, dv)
	if err != nil {
		rq.w.Header().Set("Content-Type", "application/json")
		rq.w.WriteHeader(statusOf(err))
		_, _ = rq.w.Write([]byte(`{"ended":true}`))
		return
	}
	rq.w.Header().Set("Content-Type", "application/json")
	rq.w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(rq.w).Encode(cv)
}

// command reads the path's command and says its state.
func (p *Portal) command(rq *req, dv deviceView) (commandView, error) {
	c, err := flows.FollowCommand(rq.ctx, rq.c, dv.ID, rq.r.PathValue("cid"))
	if err != nil {
		return commandView{}, err
	}
	cv := commandView{ID: c.ID, DeviceID: dv.ID, Type: c.Type, State: c.State, Ended: flows.CommandEnded(c), Failed: c.State == flows.CommandFailed}
	switch c.State {
	case flows.CommandPending:
		cv.Text = rq.T("hub.command.pending", "name", dv.Name)
	case flows.CommandDelivered:
		cv.Text = rq.T("hub.command.delivered", "name", dv.Name)
	case flows.CommandFailed:
		cv.Text = rq.T("hub.command.failed", "reason", c.Result)
	default:
		cv.Text = rq.T("hub.command.done."+c.Type, "name", dv.Name, "result", c.Result)
		if c.Location != nil {
			where, link := p.locationText(rq, c.Location)
			cv.Text, cv.MapURL = rq.T("hub.command.located", "where", where), link
		}
	}
	return cv, nil
}

// failed draws what went wrong with a page's reading.
func (p *Portal) failed(rq *req, err error) {
	ev, gone := rq.explain(err)
	if gone {
		return
	}
	if rq.status < 500 && rq.status != http.StatusNotFound {
		rq.status = http.StatusBadGateway
	}
	rq.render("message", view{Title: ev.Text, Message: ev.Hint, Back: "/account"})
}

// noticeOf is the good news of a ?done= after a change.
func (p *Portal) noticeOf(rq *req) string {
	switch rq.r.URL.Query().Get("done") {
	case "find":
		return rq.T("hub.find.saved")
	case "removed":
		return rq.T("web.device.removed")
	case "profile":
		return rq.T("hub.profile.saved")
	case "two_step_off":
		return rq.T("hub.two_step.off_done")
	}
	return ""
}

// storageOf is the storage bar of st.
func storageOf(rq *req, st api.Storage) *storageView {
	sv := &storageView{Used: flows.FormatBytes(st.UsedBytes), Quota: flows.FormatBytes(st.QuotaBytes)}
	if st.QuotaBytes > 0 {
		sv.Percent = int(min(100, st.UsedBytes*100/st.QuotaBytes))
	}
	for _, c := range []string{"contacts", "messages", "gallery", "notes", "calendar", "call_history", "recorder", "browser"} {
		if n := st.ByCategory[c]; n > 0 {
			sv.Categories = append(sv.Categories, categoryUse{Name: rq.T("sync.cat." + c), Size: flows.FormatBytes(n)})
		}
	}
	return sv
}
