package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkOverview measures the portal's account overview (the page a
// signed-in browser opens: the account, its devices and its storage read
// through the API in-process, drawn with html/template) against the API's
// own GET /v1/account on the same service, in the same run: the ratio says
// what drawing the page adds to the reads it needs.
//
//	go test -run '^$' -bench Overview -benchmem ./web
func BenchmarkOverview(b *testing.B) {
	s := startSite(b, false)
	phone := s.account("bench@example.com", "phone-1")
	br := s.browser()
	br.signIn("bench@example.com", password)
	u, _ := url.Parse(s.url)
	var cookie string
	for _, c := range br.hc.Jar.Cookies(u) {
		if c.Name == "mi_session" {
			cookie = c.Value
		}
	}
	h := s.handler
	b.Run("portal /account", func(b *testing.B) {
		req := httptest.NewRequest("GET", "/account", nil)
		req.AddCookie(&http.Cookie{Name: "mi_session", Value: cookie})
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Security checkup") {
				b.Fatalf("%d", w.Code)
			}
		}
	})
	b.Run("api GET /v1/account", func(b *testing.B) {
		req := httptest.NewRequest("GET", "/v1/account", nil)
		req.Header.Set("Authorization", "Bearer "+phone.Token())
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("%d", w.Code)
			}
			_, _ = io.Copy(io.Discard, w.Body)
		}
	})
}
