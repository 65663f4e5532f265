package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"misetup/api"
)

// status answers GET /v1/status. It is the one endpoint every client may
// call, however old, to learn that it must update.
func (s *Server) status(r *http.Request) (int, any, error) {
	return http.StatusOK, json.RawMessage(statusJSON(statusAt(s.cfg, s.now()))), nil
}

// statusAt is the answer of GET /v1/status at now. It needs no store, so a
// service still opening answers it too (Opening).
func statusAt(cfg Config, now time.Time) api.Status {
	return api.Status{
		ServerTime:          now.UTC().Truncate(time.Second),
		Version:             cfg.Version,
		MinClientVersion:    cfg.MinClientVersion,
		LatestClientVersion: cfg.LatestClientVersion,
		PublicURL:           strings.TrimRight(cfg.PublicURL, "/"),
	}
}

// statusJSON is st in JSON, as writeJSON writes it (TestStatusJSON). It is
// written by hand when its texts need no escaping (versions and an
// address: they never do): it is the first answer a starting process gives
// (Opening), and encoding/json's first use, building the encoder of a type
// by reflection, took a tenth of serve's way to it (bench/README.md).
func statusJSON(st api.Status) []byte {
	at, err := st.ServerTime.MarshalJSON()
	if err != nil || !plainJSON(st.Version) || !plainJSON(st.MinClientVersion) ||
		!plainJSON(st.LatestClientVersion) || !plainJSON(st.PublicURL) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(st); err != nil {
			return []byte("{}") // a Status always encodes
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	b := make([]byte, 0, 160+len(st.PublicURL))
	b = append(append(b, `{"server_time":`...), at...)
	b = append(append(append(b, `,"version":"`...), st.Version...), '"')
	b = append(append(append(b, `,"min_client_version":"`...), st.MinClientVersion...), '"')
	b = append(append(append(b, `,"latest_client_version":"`...), st.LatestClientVersion...), '"')
	if st.PublicURL != "" {
		b = append(append(append(b, `,"public_url":"`...), st.PublicURL...), '"')
	}
	return append(b, '}')
}

// plainJSON reports whether s is written in JSON as it is: printable
// ASCII, no quote, no backslash.
func plainJSON(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// checkClientVersion refuses a client whose X-Misetup-Client version is
// below MinClientVersion (426 client_too_old). Requests without the header
// (curl, integrators) are served.
func (s *Server) checkClientVersion(r *http.Request) error {
	v := r.Header.Get(api.HeaderClientVersion)
	if v == "" || s.cfg.MinClientVersion == "" {
		return nil
	}
	got, ok := parseVersion(v)
	if !ok {
		return errInput(api.HeaderClientVersion, "The %s header must be a version like 1.2.3.", api.HeaderClientVersion)
	}
	min, _ := parseVersion(s.cfg.MinClientVersion)
	if compareVersions(got, min) < 0 {
		return &api.Error{
			Code:    api.CodeClientTooOld,
			Message: fmt.Sprintf("This version of misetup is too old for the service: update to %s or newer.", s.cfg.MinClientVersion),
		}
	}
	return nil
}

// parseVersion reads "1.2.3", "v1.2" or "misetup/1.2.3-dev" into its
// numeric parts (pre-release and build suffixes are ignored).
func parseVersion(v string) ([3]int, bool) {
	var out [3]int
	if i := strings.LastIndexByte(v, '/'); i >= 0 {
		v = v[i+1:]
	}
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	parts := strings.Split(v, ".")
	if len(parts) == 0 || len(parts) > 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || len(p) > 9 {
			return out, false
		}
		out[i] = n
	}
	return out, true
}

// compareVersions returns -1, 0 or 1 as a is older than, equal to or newer
// than b.
func compareVersions(a, b [3]int) int {
	for i := range a {
		switch {
		case a[i] < b[i]:
			return -1
		case a[i] > b[i]:
			return 1
		}
	}
	return 0
}
