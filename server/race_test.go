package server

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"misetup/server/policy"
	"misetup/server/servertest"
)

// batteryConfig sets the rules servertest expects, and an argon2 slow
// enough that requests arriving together overlap in it, as in production.
func batteryConfig(c *Config) {
	for k, v := range servertest.Rules {
		switch k {
		case "sign_in_failures":
			c.SignInFailures = atoi(v)
		case "code_attempts":
			c.CodeAttempts = atoi(v)
		case "sends_per_window":
			c.SendsPerWindow = atoi(v)
		case "address_failures":
			c.AddressFailures = atoi(v)
		case "handoffs_per_address":
			c.HandoffsPerAddress = atoi(v)
		case "default_quota_bytes":
			c.DefaultQuotaBytes = int64(atoi(v))
		case "resend_cooldown":
			d, err := time.ParseDuration(v)
			if err != nil {
				panic(err)
			}
			c.ResendCooldown = d
		default:
			panic("servertest rule " + k + " is not set here")
		}
	}
	c.Argon2 = policy.Argon2Params{Memory: 2048, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	c.PublicURL = "https://store.example.com" // the hand-off rules need one
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(fmt.Sprintf("servertest rule %q: %v", s, err))
	}
	return n
}

// target is the env as servertest drives it.
func (e *env) target() *servertest.Target {
	return &servertest.Target{
		URLs: []string{e.hs.URL},
		Code: func(t testing.TB, to string) string { return e.codeFor(to) },
		Wait: e.clock.Advance,
		Now:  e.clock.Now,
		Audit: func(t testing.TB, miID, event string) int {
			return servertest.CountEvents(t, e.st, miID, event)
		},
	}
}

// TestRulesUnderConcurrency runs the rule battery through the real HTTP
// handler on each store: requests arriving together never pass a limit,
// reuse a code or undo another request's change.
func TestRulesUnderConcurrency(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			servertest.Run(t, func(t *testing.T) *servertest.Target {
				return newEnvOn(t, kind, batteryConfig).target()
			})
		})
	}
}
