package courier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// WebhookConfig says where an SMS gateway (or any HTTP receiver) takes
// messages.
type WebhookConfig struct {
	URL   string
	Token string // sent as "Authorization: Bearer TOKEN" when set
	// Timeout bounds one delivery; 10 s when 0.
	Timeout time.Duration
	// Client makes the request; a plain http.Client when nil.
	Client *http.Client
}

// Webhook delivers messages by POSTing them as JSON.
type Webhook struct {
	cfg WebhookConfig
}

// NewWebhook returns a courier that POSTs to cfg.URL.
func NewWebhook(cfg WebhookConfig) *Webhook {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	return &Webhook{cfg: cfg}
}

// webhookBody is what the gateway receives.
type webhookBody struct {
	Channel string    `json:"channel"`
	To      string    `json:"to"`
	Body    string    `json:"body"`
	Time    time.Time `json:"time"`
}

// Send implements Courier: it POSTs {"channel","to","body","time"} as JSON.
// Any 2xx answer is a delivery; another status is an error naming it with
// the start of the answer ("gateway answered 500 Internal Server Error:
// ..."); no answer within the timeout is an error too.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	where := redactURL(w.cfg.URL)
	u, err := url.Parse(w.cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("webhook: %q is not an http(s) URL", where)
	}
	if m.Time.IsZero() {
		m.Time = time.Now().UTC()
	}
	body, err := json.Marshal(webhookBody{Channel: m.Channel, To: m.To, Body: m.Body, Time: m.Time})
	if err != nil {
		return fmt.Errorf("webhook: encode message: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", where, w.scrub(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/plain;q=0.9, */*;q=0.1")
	if w.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+w.cfg.Token)
	}
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return fmt.Errorf("webhook %s: no answer within %s", where, w.cfg.Timeout)
		case errors.Is(ctx.Err(), context.Canceled):
			return fmt.Errorf("webhook %s: delivery cancelled: %w", where, ctx.Err())
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL, query and all
		}
		return fmt.Errorf("webhook %s: %w", where, w.scrub(err))
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := fmt.Sprintf("webhook %s: gateway answered %s", where, resp.Status)
		if ex := excerpt(w.scrubText(string(head)), 200); ex != "" {
			msg += ": " + ex
		}
		return errors.New(msg)
	}
	return nil
}

// scrub keeps the token out of an error's text.
func (w *Webhook) scrub(err error) error {
	if w.cfg.Token == "" || !strings.Contains(err.Error(), w.cfg.Token) {
		return err
	}
	return errors.New(w.scrubText(err.Error()))
}

func (w *Webhook) scrubText(s string) string {
	if w.cfg.Token == "" {
		return s
	}
	return strings.ReplaceAll(s, w.cfg.Token, "[token]")
}

// redactURL is the URL as errors show it: no user or password, no query (gateways
// often take an API key there), no fragment.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	u.User = nil
	return u.String()
}
