package server

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"misetup/api"
	"misetup/server/policy"
)

func TestRegisterSendsCode(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	c := e.register("ann@example.com", testPassword)

	if c.Purpose != api.PurposeRegistration || c.Channel != api.ChannelEmail || c.State != api.ChallengePending {
		t.Errorf("challenge %+v: want a pending email registration", c)
	}
	if c.Destination != "a***@example.com" {
		t.Errorf("destination %q, want it masked as a***@example.com", c.Destination)
	}
	if c.Delivery.State != api.DeliveryQueued || c.AttemptsLeft != 5 {
		t.Errorf("delivery %q, attempts %d; want queued, 5", c.Delivery.State, c.AttemptsLeft)
	}
	if !c.ExpiresAt.Equal(now.Add(10*time.Minute)) || !c.ResendAfter.Equal(now.Add(time.Minute)) {
		t.Errorf("expires %v, resend after %v; want +10m, +60s from %v", c.ExpiresAt, c.ResendAfter, now)
	}

	m := e.lastMessageTo("ann@example.com")
	for _, want := range []string{"Mi Account", "10 minutes", e.codeFor("ann@example.com")} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("message %q does not say %q", m.Body, want)
		}
	}
	if m.Channel != api.ChannelEmail || m.Subject == "" {
		t.Errorf("message channel %q subject %q", m.Channel, m.Subject)
	}

	var got api.Challenge
	e.do("GET", "/v1/challenges/"+c.ID, nil).into(t, http.StatusOK, &got)
	if got.Delivery.State != api.DeliverySent || got.Delivery.At == nil {
		t.Errorf("after delivery: %+v, want sent with a time", got.Delivery)
	}

	// The challenge carries the argon2id hash, never the password.
	stored, err := e.st.Challenge(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored.Payload, testPassword) || !strings.Contains(stored.Payload, "$argon2id$") {
		t.Errorf("payload %q: want an argon2id hash and no password", stored.Payload)
	}
}

func TestRegisterByPhoneInChinese(t *testing.T) {
	e := newEnv(t)
	var c api.Challenge
	e.do("POST", "/v1/registrations", api.RegistrationRequest{
		Method: "phone", Identifier: "138 0013 8000", Password: testPassword, Region: "cn", Language: "zh-CN",
	}).into(t, http.StatusAccepted, &c)
	if c.Channel != api.ChannelSMS || !strings.HasPrefix(c.Destination, "+86 ") || !strings.HasSuffix(c.Destination, "8000") || strings.Contains(c.Destination, "0013") {
		t.Errorf("challenge channel %q destination %q: want a masked +86 sms", c.Channel, c.Destination)
	}
	m := e.lastMessageTo("+8613800138000")
	if !strings.Contains(m.Body, "小米账号") || !strings.Contains(m.Body, "10 分钟") {
		t.Errorf("sms %q: want the Chinese text naming the product and the validity", m.Body)
	}
}

func TestRegisterVerifyCreatesAccount(t *testing.T) {
	e := newEnv(t)
	c := e.register("ann@example.com", testPassword)
	var out api.VerifyResponse
	e.do("POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: e.codeFor("ann@example.com")}).
		into(t, http.StatusOK, &out)
	if out.Session != nil {
		t.Errorf("no device given, yet a session: %+v", out.Session)
	}
	if out.Account.Email != "ann@example.com" || len(out.Account.MiID) < 9 {
		t.Errorf("account %+v", out.Account)
	}
	if _, err := policy.ParseMiID(out.Account.MiID); err != nil {
		t.Errorf("Mi ID %q: %v", out.Account.MiID, err)
	}
	// The account signs in by email and by Mi ID, with the chosen password.
	e.session("ann@example.com", testPassword, "laptop")
	e.session(out.Account.MiID, testPassword, "laptop")
	if !e.hasAudit(out.Account.MiID, "account_created") {
		t.Error("no account_created audit event")
	}
}

func TestRegisterVerifyWithDeviceSignsIn(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "pixel-7")
	if s.Device.ID != "pixel-7" || !s.Device.Current {
		t.Errorf("session device %+v", s.Device)
	}
	var a api.Account
	e.do("GET", "/v1/account", nil, auth(s.Token)...).into(t, http.StatusOK, &a)
	if a.Email != "ann@example.com" {
		t.Errorf("account %+v", a)
	}
	var ds api.DeviceList
	e.do("GET", "/v1/devices", nil, auth(s.Token)...).into(t, http.StatusOK, &ds)
	if len(ds.Devices) != 1 || ds.Devices[0].ID != "pixel-7" {
		t.Errorf("devices %+v: want the device linked", ds.Devices)
	}
}

// jsonKeys lists the keys of a JSON object, nested ones as a.b.
func jsonKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k, v := range m {
		keys = append(keys, k)
		if sub, ok := v.(map[string]any); ok {
			for k2 := range sub {
				keys = append(keys, k+"."+k2)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

func TestRegisterTakenIdentifierRevealsNothing(t *testing.T) {
	e := newEnv(t)
	e.signUp("ann@example.com", "phone")

	free := e.do("POST", "/v1/registrations", api.RegistrationRequest{Method: "email", Identifier: "bob@example.com", Password: testPassword})
	taken := e.do("POST", "/v1/registrations", api.RegistrationRequest{Method: "email", Identifier: "ann@example.com", Password: "Other-Pass-77"})
	if free.status != taken.status || free.status != http.StatusAccepted {
		t.Fatalf("statuses %d and %d, want both 202", free.status, taken.status)
	}
	if fk, tk := jsonKeys(t, free.body), jsonKeys(t, taken.body); !slices.Equal(fk, tk) {
		t.Errorf("answers differ in shape:\nfree  %v\ntaken %v", fk, tk)
	}
	var fc, tc api.Challenge
	free.into(t, 202, &fc)
	taken.into(t, 202, &tc)
	fc.ID, tc.ID, fc.Destination, tc.Destination = "", "", "", ""
	if fc != tc {
		t.Errorf("answers differ:\nfree  %+v\ntaken %+v", fc, tc)
	}

	// Only the owner of the address learns, from the message...
	m := e.lastMessageTo("ann@example.com")
	if !strings.Contains(m.Body, "already uses it") || !strings.Contains(m.Body, "Forgot password") {
		t.Errorf("message for a taken address %q: want it to say so and point to Forgot password", m.Body)
	}
	// ...and from verify, once the code proves the address is theirs.
	var tch api.Challenge
	taken.into(t, 202, &tch)
	r := e.do("POST", "/v1/challenges/"+tch.ID+"/verify", api.VerifyRequest{Code: e.codeFor("ann@example.com")})
	ae := r.apiErr(t, http.StatusConflict, api.CodeAccountExists)
	if !strings.Contains(ae.Message, "Sign in") || !strings.Contains(ae.Message, "Forgot password") {
		t.Errorf("account_exists message %q: want the way to sign in or reset", ae.Message)
	}
	// The account keeps its password.
	e.session("ann@example.com", testPassword, "phone")
	e.signIn("ann@example.com", "Other-Pass-77", "phone").apiErr(t, http.StatusUnauthorized, api.CodeInvalidCredentials)
}

func TestDefaultArgon2Stored(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Argon2 = policy.DefaultArgon2() })
	c := e.register("ann@example.com", testPassword)
	stored, err := e.st.Challenge(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var p payload
	if err := json.Unmarshal([]byte(stored.Payload), &p); err != nil {
		t.Fatal(err)
	}
	params, err := policy.ParseArgon2(p.PasswordHash)
	if err != nil {
		t.Fatalf("parse %q: %v", p.PasswordHash, err)
	}
	want := policy.Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	if params != want || params.Memory < 19*1024 {
		t.Errorf("stored params %+v, want at least %+v", params, want)
	}
	var out api.VerifyResponse
	e.do("POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: e.codeFor("ann@example.com")}).into(t, 200, &out)
	a, err := e.st.AccountByMiID(context.Background(), out.Account.MiID)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := policy.ParseArgon2(a.PasswordHash); got != want {
		t.Errorf("account hash params %+v, want %+v", got, want)
	}
}

func TestConcurrentRegistrationsOfOneAddress(t *testing.T) {
	// Two registrations of one address, both verified at once: one account.
	e := newEnv(t)
	c1 := e.register("ann@example.com", testPassword)
	code1 := e.codeFor("ann@example.com")
	c2 := e.register("ann@example.com", testPassword)
	code2 := e.codeFor("ann@example.com")
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i, v := range []struct{ id, code string }{{c1.ID, code1}, {c2.ID, code2}} {
		wg.Go(func() {
			statuses[i] = e.do("POST", "/v1/challenges/"+v.id+"/verify", api.VerifyRequest{Code: v.code}).status
		})
	}
	wg.Wait()
	slices.Sort(statuses)
	if statuses[0] != http.StatusOK || statuses[1] != http.StatusConflict {
		t.Errorf("statuses %v, want one 200 and one 409", statuses)
	}
}
