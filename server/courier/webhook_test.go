package courier_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"misetup/server/courier"
)

func smsMessage() courier.Message {
	return courier.Message{Time: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), Channel: "sms", To: "+8613800138000", Body: "验证码 123456"}
}

func TestWebhookDelivers(t *testing.T) {
	type request struct {
		method, auth, contentType string
		body                      map[string]any
	}
	got := make(chan request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		got <- request{r.Method, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), body}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	c := courier.NewWebhook(courier.WebhookConfig{URL: srv.URL + "/sms", Token: "tok-123"})
	if err := c.Send(context.Background(), smsMessage()); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.method != http.MethodPost || r.auth != "Bearer tok-123" || r.contentType != "application/json" {
		t.Errorf("method=%q auth=%q content-type=%q", r.method, r.auth, r.contentType)
	}
	want := map[string]any{"channel": "sms", "to": "+8613800138000", "body": "验证码 123456", "time": "2026-03-04T05:06:07Z"}
	for k, v := range want {
		if r.body[k] != v {
			t.Errorf("body[%q] = %v, want %v", k, r.body[k], v)
		}
	}
	if len(r.body) != len(want) {
		t.Errorf("body has fields %v, want exactly %v", r.body, want)
	}
}

func TestWebhookNoToken(t *testing.T) {
	auth := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth <- r.Header.Get("Authorization")
	}))
	defer srv.Close()
	if err := courier.NewWebhook(courier.WebhookConfig{URL: srv.URL}).Send(context.Background(), smsMessage()); err != nil {
		t.Fatal(err)
	}
	if a := <-auth; a != "" {
		t.Errorf("Authorization = %q, want none without a token", a)
	}
}

func TestWebhookErrors(t *testing.T) {
	const token = "tok-very-secret"
	tests := []struct {
		name    string
		handler http.HandlerFunc
		url     string // appended to the server URL
		want    []string
	}{
		{
			name: "500 with a body",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "upstream SMS provider down\n\x1b[31mretry later", http.StatusInternalServerError)
			},
			want: []string{"gateway answered 500 Internal Server Error", "upstream SMS provider down retry later"},
		},
		{
			name: "401 echoing the token",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "bad "+r.Header.Get("Authorization"), http.StatusUnauthorized)
			},
			want: []string{"gateway answered 401 Unauthorized", "bad Bearer [token]"},
		},
		{
			name: "long body is cut",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, strings.Repeat("x", 5000), http.StatusBadGateway)
			},
			want: []string{"502 Bad Gateway", strings.Repeat("x", 200) + "…"},
		},
		{
			name:    "query string not shown",
			handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) },
			url:     "/send?api_key=k3y",
			want:    []string{"/send: gateway answered 404 Not Found"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			err := courier.NewWebhook(courier.WebhookConfig{URL: srv.URL + tt.url, Token: token}).Send(context.Background(), smsMessage())
			if err == nil {
				t.Fatal("Send succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			for _, secret := range []string{token, "k3y", "\x1b"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains %q", err, secret)
				}
			}
		})
	}
}

func TestWebhookTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	err := courier.NewWebhook(courier.WebhookConfig{URL: srv.URL, Timeout: 100 * time.Millisecond}).Send(context.Background(), smsMessage())
	if err == nil || !strings.Contains(err.Error(), "no answer within 100ms") {
		t.Errorf("Send to a stuck gateway = %v, want a timeout error", err)
	}
}

func TestWebhookUnreachableAndBadURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	url := srv.URL
	srv.Close()
	err := courier.NewWebhook(courier.WebhookConfig{URL: url + "/?key=k3y"}).Send(context.Background(), smsMessage())
	if err == nil || !strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), "k3y") {
		t.Errorf("Send to a closed port = %v, want connection refused without the query", err)
	}
	for _, u := range []string{"", "ftp://example.com/x", "not a url", "http://"} {
		if err := courier.NewWebhook(courier.WebhookConfig{URL: u}).Send(context.Background(), smsMessage()); err == nil {
			t.Errorf("Send to %q succeeded", u)
		}
	}
}

func TestWebhookUsesGivenClient(t *testing.T) {
	called := false
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		called = true
		return &http.Response{StatusCode: 200, Status: "200 OK", Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})}
	if err := courier.NewWebhook(courier.WebhookConfig{URL: "https://sms.example/send", Client: client}).Send(context.Background(), smsMessage()); err != nil {
		t.Fatal(err)
	}
	if !called {
		t.Error("the configured client was not used")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// recorder is a Courier that remembers what it was given.
type recorder struct{ got []courier.Message }

func (r *recorder) Send(_ context.Context, m courier.Message) error {
	r.got = append(r.got, m)
	return nil
}

func TestRouter(t *testing.T) {
	email, sms := &recorder{}, &recorder{}
	r := courier.Router{Email: email, SMS: sms}
	ctx := context.Background()
	if err := r.Send(ctx, courier.Message{Channel: "email", To: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Send(ctx, courier.Message{Channel: "sms", To: "+8613800138000"}); err != nil {
		t.Fatal(err)
	}
	if len(email.got) != 1 || email.got[0].To != "a@example.com" || len(sms.got) != 1 || sms.got[0].To != "+8613800138000" {
		t.Errorf("email got %+v, sms got %+v", email.got, sms.got)
	}
	if err := (courier.Router{Email: email}).Send(ctx, courier.Message{Channel: "sms"}); err == nil || err.Error() != "no courier for sms" {
		t.Errorf("Send without an SMS courier = %v, want \"no courier for sms\"", err)
	}
	if err := r.Send(ctx, courier.Message{Channel: "pigeon"}); err == nil || !strings.Contains(err.Error(), "pigeon") {
		t.Errorf("Send on an unknown channel = %v", err)
	}
	var _ courier.Courier = r
	var _ courier.Courier = courier.NewOutbox("x")
	var _ courier.Courier = courier.NewSMTP(courier.SMTPConfig{})
	var _ courier.Courier = courier.NewWebhook(courier.WebhookConfig{})
}
