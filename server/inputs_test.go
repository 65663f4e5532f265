package server

import (
	"net/http"
	"strings"
	"testing"

	"misetup/api"
)

// TestBadInput tries every kind of bad input on the endpoints: each must get
// a 4xx with its code and the field at fault, never a 500 or a hang.
// In paths, {reg} is a registration challenge, {rec} a recovery challenge of
// another account, {dev} the caller's device; "auth" rows send the caller's
// token.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	me := e.signUp("ann@example.com", "phone")
	reg := e.register("new@example.com", testPassword)
	bob := e.signUp("bob@example.com", "bobs-phone")
	var rec api.Challenge
	e.do("PUT", "/v1/account/recovery", api.RecoveryRequest{Email: "bob.backup@example.com"}, auth(bob.Token)...).into(t, http.StatusAccepted, &rec)

	huge := strings.Repeat("a", 70<<10)
	long := func(n int) string { return strings.Repeat("x", n) }
	regBody := func(fields string) string {
		return `{"method":"email","identifier":"new2@example.com","password":"` + testPassword + `"` + fields + `}`
	}
	signIn := func(fields string) string {
		return `{"identifier":"ann@example.com","password":"` + testPassword + `"` + fields + `}`
	}
	tests := []struct {
		name         string
		method, path string
		body         string
		auth         bool
		hdr          []string
		status       int
		code, field  string
	}{
		// The body itself.
		{"body over 64 KiB", "POST", "/v1/registrations", `{"method":"` + huge + `"}`, false, nil, 413, api.CodeBodyTooLarge, ""},
		{"malformed JSON", "POST", "/v1/registrations", `{"method":"email",`, false, nil, 400, api.CodeInvalidInput, ""},
		{"not JSON", "POST", "/v1/registrations", `method=email`, false, nil, 400, api.CodeInvalidInput, ""},
		{"empty body", "POST", "/v1/registrations", ``, false, nil, 400, api.CodeInvalidInput, ""},
		{"null body", "POST", "/v1/registrations", `null`, false, nil, 400, api.CodeInvalidInput, ""},
		{"array body", "POST", "/v1/registrations", `[1,2]`, false, nil, 400, api.CodeInvalidInput, ""},
		{"trailing data", "POST", "/v1/registrations", regBody("") + `{"x":1}`, false, nil, 400, api.CodeInvalidInput, ""},
		{"trailing garbage", "POST", "/v1/registrations", regBody("") + `garbage`, false, nil, 400, api.CodeInvalidInput, ""},
		{"unknown field", "POST", "/v1/registrations", regBody(`,"nickname":"ann"`), false, nil, 400, api.CodeInvalidInput, "nickname"},
		{"wrong type", "POST", "/v1/registrations", `{"method":1,"identifier":"a@b.co","password":"x"}`, false, nil, 400, api.CodeInvalidInput, "method"},
		{"nested wrong type", "POST", "/v1/sessions", signIn(`,"device":{"id":7}`), false, nil, 400, api.CodeInvalidInput, "device.id"},
		{"nested unknown field", "POST", "/v1/sessions", signIn(`,"device":{"id":"d","imei":"1"}`), false, nil, 400, api.CodeInvalidInput, "imei"},
		{"invalid UTF-8", "POST", "/v1/registrations", "{\"method\":\"email\",\"identifier\":\"a\xff@example.com\",\"password\":\"x\"}", false, nil, 400, api.CodeInvalidInput, "identifier"},
		{"lone surrogate", "POST", "/v1/registrations", `{"method":"email","identifier":"a\ud800@example.com","password":"x"}`, false, nil, 400, api.CodeInvalidInput, "identifier"},

		// Registration fields.
		{"no method", "POST", "/v1/registrations", `{"identifier":"a@example.com","password":"` + testPassword + `"}`, false, nil, 400, api.CodeInvalidInput, "method"},
		{"unknown method", "POST", "/v1/registrations", `{"method":"fax","identifier":"a@example.com","password":"` + testPassword + `"}`, false, nil, 400, api.CodeInvalidInput, "method"},
		{"empty identifier", "POST", "/v1/registrations", `{"method":"email","identifier":"","password":"` + testPassword + `"}`, false, nil, 400, api.CodeInvalidInput, "identifier"},
		{"huge identifier", "POST", "/v1/registrations", `{"method":"email","identifier":"` + long(300) + `@example.com","password":"x"}`, false, nil, 400, api.CodeInvalidInput, "identifier"},
		{"email with display name", "POST", "/v1/registrations", `{"method":"email","identifier":"Ann <ann@example.com>","password":"` + testPassword + `"}`, false, nil, 400, api.CodeInvalidInput, "identifier"},
		{"email with spaces", "POST", "/v1/registrations", `{"method":"email","identifier":"ann lee@example.com","password":"` + testPassword + `"}`, false, nil, 400, api.CodeInvalidInput, "identifier"},
		{"phone with letters", "POST", "/v1/registrations", `{"method":"phone","identifier":"+86 138 CALL ME","password":"` + testPassword + `"}`, false, nil, 400, api.CodeInvalidInput, "identifier"},
		{"email as phone", "POST", "/v1/registrations", `{"method":"phone","identifier":"ann@example.com","password":"` + testPassword + `"}`, false, nil, 400, api.CodeInvalidInput, "identifier"},
		{"bad region", "POST", "/v1/registrations", regBody(`,"region":"China"`), false, nil, 400, api.CodeInvalidInput, "region"},
		{"bad language", "POST", "/v1/registrations", regBody(`,"language":"!!"`), false, nil, 400, api.CodeInvalidInput, "language"},
		{"no password", "POST", "/v1/registrations", `{"method":"email","identifier":"a@example.com"}`, false, nil, 400, api.CodeInvalidInput, "password"},
		{"short password", "POST", "/v1/registrations", `{"method":"email","identifier":"a@example.com","password":"Ab1!"}`, false, nil, 400, api.CodeWeakPassword, "password"},
		{"common password", "POST", "/v1/registrations", `{"method":"email","identifier":"a@example.com","password":"password1"}`, false, nil, 400, api.CodeWeakPassword, "password"},
		{"password is the identifier", "POST", "/v1/registrations", `{"method":"email","identifier":"a1!b@example.com","password":"a1!b@example.com"}`, false, nil, 400, api.CodeWeakPassword, "password"},
		{"password of 129 characters", "POST", "/v1/registrations", `{"method":"email","identifier":"a@example.com","password":"Aa1!` + long(125) + `"}`, false, nil, 400, api.CodeWeakPassword, "password"},
		{"password over the byte cap", "POST", "/v1/registrations", `{"method":"email","identifier":"a@example.com","password":"` + long(600) + `"}`, false, nil, 400, api.CodeInvalidInput, "password"},

		// Sign-in.
		{"sign-in without device id", "POST", "/v1/sessions", signIn(`,"device":{"name":"x"}`), false, nil, 400, api.CodeInvalidInput, "device.id"},
		{"sign-in without device", "POST", "/v1/sessions", signIn(``), false, nil, 400, api.CodeInvalidInput, "device.id"},
		{"device id with a slash", "POST", "/v1/sessions", signIn(`,"device":{"id":"a/b"}`), false, nil, 400, api.CodeInvalidInput, "device.id"},
		{"device name too long", "POST", "/v1/sessions", signIn(`,"device":{"id":"d","name":"` + long(65) + `"}`), false, nil, 400, api.CodeInvalidInput, "device.name"},
		{"device name over the byte cap", "POST", "/v1/sessions", signIn(`,"device":{"id":"d","name":"` + long(300) + `"}`), false, nil, 400, api.CodeInvalidInput, "device.name"},
		{"sign-in without password", "POST", "/v1/sessions", `{"identifier":"ann@example.com","device":{"id":"d"}}`, false, nil, 400, api.CodeInvalidInput, "password"},
		{"sign-in without identifier", "POST", "/v1/sessions", `{"password":"x","device":{"id":"d"}}`, false, nil, 400, api.CodeInvalidInput, "identifier"},
		{"sign-in identifier of letters", "POST", "/v1/sessions", `{"identifier":"annlee","password":"x","device":{"id":"d"}}`, false, nil, 400, api.CodeInvalidInput, "identifier"},
		{"numeric Mi ID that does not exist", "POST", "/v1/sessions", `{"identifier":"123456789","password":"` + testPassword + `","device":{"id":"d"}}`, false, nil, 401, api.CodeInvalidCredentials, ""},
		{"totp of the wrong type", "POST", "/v1/sessions", signIn(`,"device":{"id":"d"},"totp":123456`), false, nil, 400, api.CodeInvalidInput, "totp"},

		// Challenges.
		{"new_password on a registration", "POST", "/v1/challenges/{reg}/verify", `{"code":"123456","new_password":"Green-Teapot-99"}`, false, nil, 400, api.CodeInvalidInput, "new_password"},
		{"code of letters", "POST", "/v1/challenges/{reg}/verify", `{"code":"abcdef"}`, false, nil, 400, api.CodeInvalidInput, "code"},
		{"code too short", "POST", "/v1/challenges/{reg}/verify", `{"code":"123"}`, false, nil, 400, api.CodeInvalidInput, "code"},
		{"no code", "POST", "/v1/challenges/{reg}/verify", `{}`, false, nil, 400, api.CodeInvalidInput, "code"},
		{"registration device without id", "POST", "/v1/challenges/{reg}/verify", `{"code":"123456","device":{"name":"x"}}`, false, nil, 400, api.CodeInvalidInput, "device.id"},
		{"unknown challenge", "POST", "/v1/challenges/ffff/verify", `{"code":"123456"}`, false, nil, 404, api.CodeNotFound, ""},
		{"challenge of another account", "POST", "/v1/challenges/{rec}/verify", `{"code":"123456"}`, true, nil, 404, api.CodeNotFound, ""},
		{"challenge of another account, read", "GET", "/v1/challenges/{rec}", ``, true, nil, 404, api.CodeNotFound, ""},
		{"reset via pigeon", "POST", "/v1/password-resets", `{"identifier":"ann@example.com","via":"pigeon"}`, false, nil, 400, api.CodeInvalidInput, "via"},
		{"reset without identifier", "POST", "/v1/password-resets", `{}`, false, nil, 400, api.CodeInvalidInput, "identifier"},

		// Account.
		{"no session", "GET", "/v1/account", ``, false, nil, 401, api.CodeUnauthorized, ""},
		{"unknown token", "GET", "/v1/account", ``, false, []string{"Authorization", "Bearer nope"}, 401, api.CodeUnauthorized, ""},
		{"display name too long", "PATCH", "/v1/account", `{"display_name":"` + long(65) + `"}`, true, nil, 400, api.CodeInvalidInput, "display_name"},
		{"empty region", "PATCH", "/v1/account", `{"region":""}`, true, nil, 400, api.CodeInvalidInput, "region"},
		{"region of the wrong type", "PATCH", "/v1/account", `{"region":["CN"]}`, true, nil, 400, api.CodeInvalidInput, "region"},
		{"change without current password", "POST", "/v1/account/password", `{"new_password":"Green-Teapot-99"}`, true, nil, 403, api.CodeReauthRequired, "current_password"},
		{"change to a weak password", "POST", "/v1/account/password", `{"current_password":"` + testPassword + `","new_password":"short"}`, true, nil, 400, api.CodeWeakPassword, "new_password"},
		{"recovery with both", "PUT", "/v1/account/recovery", `{"email":"a@example.org","phone":"+8613800138000"}`, true, nil, 400, api.CodeInvalidInput, "phone"},
		{"recovery with neither", "PUT", "/v1/account/recovery", `{}`, true, nil, 400, api.CodeInvalidInput, "email"},
		{"recovery email with display name", "PUT", "/v1/account/recovery", `{"email":"Ann <a@example.org>"}`, true, nil, 400, api.CodeInvalidInput, "email"},
		{"recovery phone with letters", "PUT", "/v1/account/recovery", `{"phone":"+86 13800 ABC"}`, true, nil, 400, api.CodeInvalidInput, "phone"},
		{"totp confirm before setup", "POST", "/v1/account/totp/confirm", `{"code":"123456"}`, true, nil, 409, api.CodeConflict, ""},
		{"totp off without password", "DELETE", "/v1/account/totp", `{}`, true, nil, 403, api.CodeReauthRequired, "password"},

		// Devices.
		{"unknown device", "GET", "/v1/devices/tablet/sync", ``, true, nil, 404, api.CodeNotFound, ""},
		{"empty device name", "PATCH", "/v1/devices/{dev}", `{"name":"  "}`, true, nil, 400, api.CodeInvalidInput, "name"},
		{"device name of escapes only", "PATCH", "/v1/devices/{dev}", `{"name":"\u001b[2J"}`, true, nil, 400, api.CodeInvalidInput, "name"},
		{"unknown category", "PUT", "/v1/devices/{dev}/sync", `{"categories":["contacts","photos"]}`, true, nil, 400, api.CodeInvalidInput, "categories"},
		{"categories not a list", "PUT", "/v1/devices/{dev}/sync", `{"categories":"contacts"}`, true, nil, 400, api.CodeInvalidInput, "categories"},
		{"auto_sync not a bool", "PUT", "/v1/devices/{dev}/sync", `{"auto_sync":"yes"}`, true, nil, 400, api.CodeInvalidInput, "auto_sync"},
		{"find device with a location", "PUT", "/v1/devices/{dev}/find-device", `{"enabled":true,"last_location":{"lat":1,"lon":2,"reported_at":"2030-01-01T00:00:00Z"}}`, true, nil, 400, api.CodeInvalidInput, "last_location"},
		{"unknown command", "POST", "/v1/devices/{dev}/commands", `{"type":"selfdestruct"}`, true, nil, 400, api.CodeInvalidInput, "type"},
		{"no command type", "POST", "/v1/devices/{dev}/commands", `{}`, true, nil, 400, api.CodeInvalidInput, "type"},
		{"locate with a password", "POST", "/v1/devices/{dev}/commands", `{"type":"locate","password":"x"}`, true, nil, 400, api.CodeInvalidInput, "password"},
		{"command message too long", "POST", "/v1/devices/{dev}/commands", `{"type":"ring","message":"` + long(201) + `"}`, true, nil, 400, api.CodeInvalidInput, "message"},
		{"bad state filter", "GET", "/v1/devices/{dev}/commands?state=weird", ``, true, nil, 400, api.CodeInvalidInput, "state"},
		{"ack of unknown state", "POST", "/v1/devices/{dev}/commands/x/ack", `{"state":"maybe"}`, true, nil, 400, api.CodeInvalidInput, "state"},
		{"ack off the globe", "POST", "/v1/devices/{dev}/commands/x/ack", `{"state":"done","location":{"lat":200,"lon":0}}`, true, nil, 400, api.CodeInvalidInput, "location.lat"},
		{"ack with a bad time", "POST", "/v1/devices/{dev}/commands/x/ack", `{"state":"done","location":{"lat":1,"lon":0,"reported_at":"yesterday"}}`, true, nil, 400, api.CodeInvalidInput, ""},
		{"ack of an unknown command", "POST", "/v1/devices/{dev}/commands/x/ack", `{"state":"done"}`, true, nil, 404, api.CodeNotFound, ""},

		// Routing and headers.
		{"unknown path", "GET", "/v1/accounts", ``, false, nil, 404, api.CodeNotFound, ""},
		{"wrong method", "PUT", "/v1/status", `{}`, false, nil, 405, api.CodeMethodNotAllowed, ""},
		{"client too old", "GET", "/v1/account", ``, true, []string{api.HeaderClientVersion, "0.0.1"}, 426, api.CodeClientTooOld, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := strings.NewReplacer("{reg}", reg.ID, "{rec}", rec.ID, "{dev}", "phone").Replace(tc.path)
			hdr := tc.hdr
			if tc.auth {
				hdr = append(hdr, auth(me.Token)...)
			}
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := e.do(tc.method, path, body, hdr...)
			ae := r.apiErr(t, tc.status, tc.code)
			if ae.Field != tc.field {
				t.Errorf("field %q, want %q (message %q)", ae.Field, tc.field, ae.Message)
			}
			if ae.Message == "" {
				t.Error("no message")
			}
		})
	}
	// None of it created an account or spent the registration's code.
	var c api.Challenge
	e.do("GET", "/v1/challenges/"+reg.ID, nil).into(t, http.StatusOK, &c)
	if c.AttemptsLeft != 5 || c.State != api.ChallengePending {
		t.Errorf("registration challenge after bad input: %+v", c)
	}
	e.signIn("new2@example.com", testPassword, "d").apiErr(t, http.StatusUnauthorized, api.CodeInvalidCredentials)
}
