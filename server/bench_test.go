package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"misetup/api"
	"misetup/server/policy"
)

// BenchmarkSignInFailure compares a wrong password for an account with a
// sign-in for no account, with the default argon2 parameters: both must
// cost one argon2 verification (DESIGN: the same answer in the same time).
// Run with -benchtime=20x; compare the ns/op of the two.
func BenchmarkSignInFailure(b *testing.B) {
	e := newEnv(b, func(c *Config) {
		c.Argon2 = policy.DefaultArgon2()
		c.SignInFailures = 1 << 30 // never lock: every try does the work
		c.AddressFailures = 1 << 30
	})
	s := e.signUp("ann@example.com", "phone")
	for _, bc := range []struct{ name, identifier string }{
		{"wrong password", "ann@example.com"},
		{"unknown email", "nobody@example.com"},
		{"unknown Mi ID", "987654321"},
		{"wrong password by Mi ID", s.Account.MiID},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if r := e.signIn(bc.identifier, "Wrong-Pass-11", "d"); r.status != http.StatusUnauthorized {
					b.Fatalf("status %d: %s", r.status, r.body)
				}
			}
		})
	}
}

func TestSignInUpgradesOldHashes(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	stronger := cheapArgon2
	stronger.Time = 2
	srv2, err := New(e.st, e.courier, func() Config { c := e.srv.cfg; c.Argon2 = stronger; return c }())
	if err != nil {
		t.Fatal(err)
	}
	hs2 := httptest.NewServer(srv2)
	defer hs2.Close()
	e2 := *e
	e2.srv, e2.hs = srv2, hs2
	e = &e2
	e.session("ann@example.com", testPassword, "d")
	a, err := e.st.AccountByMiID(context.Background(), s.Account.MiID)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := policy.ParseArgon2(a.PasswordHash); p != stronger {
		t.Errorf("hash params after sign-in %+v, want %+v", p, stronger)
	}
	e.session("ann@example.com", testPassword, "d")
	e.signIn("ann@example.com", "Wrong-Pass-11", "d").apiErr(t, http.StatusUnauthorized, api.CodeInvalidCredentials)
}
