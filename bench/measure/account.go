package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
)

// account makes an account on a running misetup serve (registration, the
// code from its outbox, verification on a device), prints its session token
// and writes the answer of an authenticated GET /v1/account to dump, for
// barehttp to serve the same bytes.
func account(url, outbox, dump string) error {
	c := newClient(url)
	ctx := context.Background()
	token, err := c.NewAccount(ctx, outbox, "bench@example.com", "Bench-kite-42", device("bench-1"))
	if err != nil {
		return err
	}
	req, _ := http.NewRequest("GET", url+"/v1/account", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /v1/account: %d %s", resp.StatusCode, body)
	}
	h := resp.Header.Clone()
	h.Del("Date") // net/http writes its own
	h.Del("Content-Length")
	b, err := json.Marshal(map[string]any{"/v1/account": map[string]any{"status": resp.StatusCode, "header": h, "body": string(body)}})
	if err != nil {
		return err
	}
	if err := os.WriteFile(dump, b, 0o644); err != nil {
		return err
	}
	fmt.Println(token)
	return nil
}
