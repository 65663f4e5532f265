package main

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"misetup/server"
)

// rulesConfig holds the rule numbers set in the config file's [rules] table
// or with --rule key=value, by key; what is not set keeps its default.
type rulesConfig map[string]any

func defaultRules() rulesConfig { return rulesConfig{} }

// ruleSetting is one settable number of server.Config.
type ruleSetting struct {
	help string
	// field returns a pointer into c: *int, *int64, *uint, *uint8, *uint32,
	// *time.Duration, *string or *[]byte (hex).
	field func(c *server.Config) any
}

// ruleSettings are the keys of [rules] and --rule, with what they set.
var ruleSettings = map[string]ruleSetting{
	"password_min_length":   {"fewest characters in a password", func(c *server.Config) any { return &c.Password.MinLen }},
	"password_max_length":   {"most characters in a password", func(c *server.Config) any { return &c.Password.MaxLen }},
	"argon2_memory_kib":     {"argon2id memory (KiB)", func(c *server.Config) any { return &c.Argon2.Memory }},
	"argon2_time":           {"argon2id passes", func(c *server.Config) any { return &c.Argon2.Time }},
	"argon2_threads":        {"argon2id threads", func(c *server.Config) any { return &c.Argon2.Threads }},
	"code_digits":           {"digits of a verification code", func(c *server.Config) any { return &c.CodeDigits }},
	"code_ttl":              {"how long a code is valid", func(c *server.Config) any { return &c.CodeTTL }},
	"code_attempts":         {"wrong codes before a challenge dies", func(c *server.Config) any { return &c.CodeAttempts }},
	"resend_cooldown":       {"wait before a code can be sent again", func(c *server.Config) any { return &c.ResendCooldown }},
	"sends_per_window":      {"codes to one destination per send_window", func(c *server.Config) any { return &c.SendsPerWindow }},
	"send_window":           {"window of sends_per_window", func(c *server.Config) any { return &c.SendWindow }},
	"delivery_timeout":      {"time limit of one delivery", func(c *server.Config) any { return &c.DeliveryTimeout }},
	"sign_in_failures":      {"failed sign-ins that lock an identifier", func(c *server.Config) any { return &c.SignInFailures }},
	"failure_window":        {"window of sign_in_failures", func(c *server.Config) any { return &c.FailureWindow }},
	"lock_duration":         {"how long a lock lasts", func(c *server.Config) any { return &c.LockDuration }},
	"address_failures":      {"failed sign-ins from one address per address_window", func(c *server.Config) any { return &c.AddressFailures }},
	"address_window":        {"window of address_failures", func(c *server.Config) any { return &c.AddressWindow }},
	"session_ttl":           {"life of a session on a personal device", func(c *server.Config) any { return &c.SessionTTL }},
	"kiosk_idle":            {"idle time that ends a kiosk session", func(c *server.Config) any { return &c.KioskIdle }},
	"kiosk_session_ttl":     {"absolute life of a kiosk session", func(c *server.Config) any { return &c.KioskSessionTTL }},
	"totp_skew":             {"30-second TOTP steps of drift accepted", func(c *server.Config) any { return &c.TOTPSkew }},
	"recovery_codes":        {"one-time recovery codes of 2FA", func(c *server.Config) any { return &c.RecoveryCodes }},
	"default_quota_bytes":   {"Mi Cloud quota of a new account", func(c *server.Config) any { return &c.DefaultQuotaBytes }},
	"max_body_bytes":        {"largest request body", func(c *server.Config) any { return &c.MaxBodyBytes }},
	"min_client_version":    {"oldest client version served", func(c *server.Config) any { return &c.MinClientVersion }},
	"latest_client_version": {"newest client version", func(c *server.Config) any { return &c.LatestClientVersion }},
	"default_region":        {"country of phone numbers without a country code", func(c *server.Config) any { return &c.DefaultRegion }},
	"max_concurrent_hashes": {"argon2 hashes computed at once", func(c *server.Config) any { return &c.MaxConcurrentHashes }},
	"handoff_ttl":           {"how long a kiosk's hand-off link works", func(c *server.Config) any { return &c.HandoffTTL }},
	"handoff_claim":         {"how long one submission holds a hand-off link", func(c *server.Config) any { return &c.HandoffClaim }},
	"handoffs_per_address":  {"hand-offs made for one client address per hour", func(c *server.Config) any { return &c.HandoffsPerAddress }},
	"max_item_bytes":        {"largest small item (a note, a contact)", func(c *server.Config) any { return &c.MaxItemBytes }},
	"max_blob_bytes":        {"largest file (a photo, a recording)", func(c *server.Config) any { return &c.MaxBlobBytes }},
	"max_chunk_bytes":       {"largest upload chunk", func(c *server.Config) any { return &c.MaxChunkBytes }},
	"upload_ttl":            {"how long an unfinished upload is kept", func(c *server.Config) any { return &c.UploadTTL }},
	"blob_grace":            {"how long a file no item refers to is kept", func(c *server.Config) any { return &c.BlobGrace }},
	"blob_timeout":          {"time without a byte that ends a transfer", func(c *server.Config) any { return &c.BlobTimeout }},
	"max_conns":             {"connections open at once, in all", func(c *server.Config) any { return &c.MaxConns }},
	"max_conns_per_addr":    {"connections open at once from one client address", func(c *server.Config) any { return &c.MaxConnsPerAddr }},
	"command_wait_max":      {"longest wait of a device's long poll for its commands", func(c *server.Config) any { return &c.CommandWaitMax }},
	"command_poll_every":    {"how often a long poll looks for commands queued by another process", func(c *server.Config) any { return &c.CommandPollEvery }},
}

// addRuleFlags registers --rule key=value (repeatable).
func addRuleFlags(fl *pflag.FlagSet) {
	keys := make([]string, 0, len(ruleSettings))
	for k := range ruleSettings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fl.StringArray("rule", nil, "set a rule's number, e.g. --rule code_ttl=5m --rule sign_in_failures=3; keys: "+strings.Join(keys, ", "))
}

// fromFlags adds the --rule values over those of the config file.
func (r rulesConfig) fromFlags(fl *pflag.FlagSet) error {
	vals, err := fl.GetStringArray("rule")
	if err != nil {
		return err
	}
	for _, kv := range vals {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("--rule %q: want key=value", kv)
		}
		r[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return nil
}

// apply returns c with the rules set, or an error naming the bad key.
func (r rulesConfig) apply(c server.Config) (server.Config, error) {
	for k, v := range r {
		s, ok := ruleSettings[k]
		if !ok {
			return c, fmt.Errorf("rule %q: unknown (see misetup serve --help)", k)
		}
		if err := setRule(s.field(&c), v); err != nil {
			return c, fmt.Errorf("rule %s: %w", k, err)
		}
	}
	return c, nil
}

// setRule stores v (a TOML value or a flag's text) into the field dst.
func setRule(dst, v any) error {
	text := fmt.Sprint(v)
	integer := func(bits int, unsigned bool) (int64, error) {
		if unsigned {
			n, err := strconv.ParseUint(text, 10, bits)
			return int64(n), err
		}
		return strconv.ParseInt(text, 10, bits)
	}
	var err error
	switch p := dst.(type) {
	case *int:
		var n int64
		n, err = integer(64, false)
		*p = int(n)
	case *int64:
		*p, err = integer(64, false)
	case *uint:
		var n int64
		n, err = integer(32, true)
		*p = uint(n)
	case *uint8:
		var n int64
		n, err = integer(8, true)
		*p = uint8(n)
	case *uint32:
		var n int64
		n, err = integer(32, true)
		*p = uint32(n)
	case *time.Duration:
		*p, err = time.ParseDuration(text)
	case *string:
		*p = text
	case *[]byte:
		*p, err = hex.DecodeString(text)
	default:
		return fmt.Errorf("unsupported setting type %T", dst)
	}
	if err != nil {
		return fmt.Errorf("%q: %w", text, err)
	}
	return nil
}
