package server

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"misetup/api"
)

// requestTypes returns a fresh value of every request body type.
func requestTypes() []any {
	return []any{
		&api.RegistrationRequest{}, &api.VerifyRequest{}, &api.SessionRequest{},
		&api.PasswordResetRequest{}, &api.AccountPatch{}, &api.PasswordChange{},
		&api.RecoveryRequest{}, &api.TOTPConfirm{}, &api.PasswordConfirm{},
		&api.DevicePatch{}, &api.SyncSettings{}, &api.FindDevice{},
		&api.CommandRequest{}, &api.CommandAck{},
		&api.HandoffRequest{}, &api.HandoffCompletion{},
		&api.ItemWrite{}, &api.UploadRequest{}, &api.Batch{},
	}
}

// FuzzDecode feeds any bytes to decodeJSON (and the validators that run on
// what it decodes) for every request type: it must never panic, and every
// refusal must be a 4xx *api.Error. Seeds are in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"method":"email","identifier":"ann@example.com","password":"Blue-Kettle-42"}`,
		`{"identifier":"+86 138 0013 8000","password":"x","device":{"id":"d","name":"n"},"totp":"123456"}`,
		`{"categories":["contacts","notes"],"auto_sync":true}`,
		`{"state":"done","location":{"lat":1.5,"lon":2,"reported_at":"2030-01-01T00:00:00Z"}}`,
		`{"code":"123456","new_password":"x","device":{"id":"d"}}`,
		`{"purpose":"sign_in","device":{"id":"kiosk-7","name":"Kiosk"},"region":"cn","language":"zh-CN"}`,
		`{"method":"phone","identifier":"138 0013 8000","password":"Blue-Kettle-42","totp":"12345-67890"}`,
		`{"name":"Beach","blob":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","size":4,"content_type":"image/jpeg; q=1"}`,
		`{"data":"aGVsbG8=","name":"n"}`, `{"data":"hello!"}`,
		`{"writes":[{"id":"a/b.md","version":0,"data":"aGk="},{"id":"c","version":3,"delete":true},{"id":"..","version":-1}]}`, `{"sha256":"AB","size":-1}`,
		"{\"name\":\"\xff\"}", `{"a":1}{}`, `[]`, `null`, ``, `{"display_name":null}`,
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range requestTypes() {
			body := http.MaxBytesReader(nil, io.NopCloser(bytes.NewReader(data)), 4<<10)
			err := decodeJSON(body, v)
			if err == nil {
				err = validateDecoded(v, now)
			}
			if err == nil {
				continue
			}
			var ae *api.Error
			if !errors.As(err, &ae) {
				t.Fatalf("%T: %v is not an *api.Error", v, err)
			}
			if st := httpStatus(ae); st < 400 || st > 499 {
				t.Fatalf("%T: status %d for %q", v, st, data)
			}
		}
	})
}

// validateDecoded runs the pure validators a handler runs on a decoded body.
func validateDecoded(v any, now time.Time) error {
	switch v := v.(type) {
	case *api.SessionRequest:
		return checkDevice(&v.Device, "device")
	case *api.VerifyRequest:
		if v.Device != nil {
			return checkDevice(v.Device, "device")
		}
	case *api.SyncSettings:
		_, err := checkCategories(v.Categories)
		return err
	case *api.CommandAck:
		if v.Location != nil {
			_, err := checkLocation(v.Location, now)
			return err
		}
	case *api.DevicePatch:
		_, err := cleanText("name", v.Name, maxDeviceName)
		return err
	case *api.RegistrationRequest:
		_, err := checkLanguage("language", v.Language)
		return err
	case *api.HandoffRequest:
		return checkHandoffRequest(v)
	case *api.UploadRequest:
		_, err := checkUploadRequest(v, 1<<30)
		return err
	case *api.ItemWrite:
		if _, err := cleanText("name", v.Name, maxItemName); err != nil {
			return err
		}
		if v.ContentType != "" {
			_, err := checkContentType(v.ContentType)
			return err
		}
	case *api.Batch:
		for i := range v.Writes {
			if err := checkBatchWrite(&v.Writes[i]); err != nil {
				return inWrite(i, err)
			}
		}
	case *api.HandoffCompletion:
		// A link is one or the other: both checks must hold up.
		for _, purpose := range []string{api.PurposeRegistration, api.PurposeSignIn} {
			c := *v
			if err := checkCompletion(purpose, &c); err != nil {
				return err
			}
		}
	}
	return nil
}
