package server

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"misetup/api"
)

// TestStatusJSON: statusJSON writes a status as writeJSON's encoder does,
// whatever its texts (quotes, backslashes, control characters, non-ASCII,
// invalid UTF-8, HTML's <>&) and its time.
func TestStatusJSON(t *testing.T) {
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	cases := []api.Status{
		{ServerTime: at, Version: "1.0.0", MinClientVersion: "1.0.0", LatestClientVersion: "1.2.0"},
		{ServerTime: at, Version: "1.0.0", MinClientVersion: "0.9.0", LatestClientVersion: "1.0.0", PublicURL: "https://store.example.com:8443"},
		{},
		{ServerTime: at.Add(123456789 * time.Nanosecond).In(time.FixedZone("CST", 8*3600)), Version: `1.0.0-"rc"\1`},
		{ServerTime: at, Version: "1.0\n\t\x01", PublicURL: "https://商店.example.com/<a>&b"},
		{ServerTime: at, Version: "\xff\xfe", LatestClientVersion: "\u2028\u2029"},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "1", ".", "-", ":", "/", `"`, `\`, "\n", "\x00", "\x7f", "<", "&", "é", "商", "\u2028", "\xc3", " "}
	text := func() string {
		var b bytes.Buffer
		for range rng.IntN(12) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 500 {
		cases = append(cases, api.Status{ServerTime: at.Add(time.Duration(rng.Int64N(1e18))), Version: text(),
			MinClientVersion: text(), LatestClientVersion: text(), PublicURL: text()})
	}
	for _, st := range cases {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // as writeJSON
		if err := enc.Encode(st); err != nil {
			t.Fatal(err)
		}
		if got, want := string(statusJSON(st))+"\n", buf.String(); got != want {
			t.Errorf("statusJSON(%+v) =\n%s\nencoding/json:\n%s", st, got, want)
		}
	}
}
