package main

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"misetup/api"
	"misetup/flows"
)

// TestEmbeddedServiceOpensLate checks that calls made before the embedded
// service is open wait for it, and that a service that fails to open is
// reported as such, not as an unreachable network.
func TestEmbeddedServiceOpensLate(t *testing.T) {
	opened := make(chan struct{})
	statusOK := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"server_time":"2026-03-01T09:30:00Z","version":"1.0.0"}`))
	})
	svc := newService(wizardEnv{Embedded: func(ctx context.Context) (http.Handler, func() error, error) {
		<-opened
		return statusOK, func() error { return nil }, nil
	}})
	defer svc.close()

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := svc.client.Status(ctx)
		done <- err
	}()
	go func() { _ = svc.start(context.Background()) }()
	select {
	case err := <-done:
		t.Fatalf("a call returned before the service opened: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(opened)
	if err := <-done; err != nil {
		t.Fatalf("call after the service opened: %v", err)
	}

	broken := newService(wizardEnv{Embedded: func(ctx context.Context) (http.Handler, func() error, error) {
		return nil, nil, errors.New("disk full")
	}})
	defer broken.close()
	if err := broken.start(context.Background()); !errors.Is(err, flows.ErrServiceNotStarted) {
		t.Fatalf("start: %v", err)
	}
	_, err := broken.statusSource().Status(context.Background())
	if flows.Explain(err).Key != flows.ErrKeyServiceNotStarted {
		t.Fatalf("status of a service that did not open: %v", err)
	}
	if _, err := broken.client.Status(context.Background()); !errors.Is(err, api.ErrUnavailable) {
		t.Fatalf("other calls: %v, want unavailable", err)
	}
}

// TestLanguageFromEnvironment: only an explicit choice (--lang,
// MISETUP_LANG, the config file) becomes Options.Lang, which beats the
// language saved with the progress; the locale goes in Options.Locale,
// which the saved choice beats (issue 9: LANG=en_US.UTF-8 brought a run
// resumed in Chinese back in English).
func TestLanguageFromEnvironment(t *testing.T) {
	tests := []struct {
		flag         string
		environ      []string
		lang, locale string
	}{
		{"", []string{"LANG=zh_CN.UTF-8"}, "", "zh_CN.UTF-8"},
		{"", []string{"LANG=en_US.UTF-8", "LC_ALL=zh_CN.UTF-8"}, "", "zh_CN.UTF-8"},
		{"en", []string{"LANG=zh_CN.UTF-8"}, "en", "zh_CN.UTF-8"},
		{"", []string{"LANG=C"}, "", "C"},
		{"zh-CN", nil, "zh-CN", ""},
	}
	for _, tt := range tests {
		_, opts := wizardDeps(wizardEnv{Lang: tt.flag, Environ: tt.environ, StateDir: t.TempDir()}, newService(wizardEnv{ServerURL: "http://127.0.0.1:1"}))
		if opts.Lang != tt.lang || opts.Locale != tt.locale {
			t.Errorf("--lang %q with %v: Lang %q Locale %q, want %q %q", tt.flag, tt.environ, opts.Lang, opts.Locale, tt.lang, tt.locale)
		}
	}
}
