// Command barehttp is the reference of the service rows: a bare net/http
// server. It answers GET /v1/status with a fixed body, and each path of a
// dump file (made by measure account from a real misetup serve) with the
// very same status, headers and bytes, whatever the request.
//
//	barehttp -addr 127.0.0.1:PORT [-dump account.json]
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"strconv"
)

// Answer is one recorded answer.
type Answer struct {
	Status int                 `json:"status"`
	Header map[string][]string `json:"header"`
	Body   string              `json:"body"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8418", "address to listen on")
	dump := flag.String("dump", "", "JSON file of path → answer to serve")
	flag.Parse()
	answers := map[string]Answer{"/v1/status": {Status: 200,
		Header: map[string][]string{"Content-Type": {"application/json"}},
		Body:   `{"server_time":"2030-01-01T00:00:00Z","version":"1.0.0","min_client_version":"1.0.0","latest_client_version":"1.0.0"}` + "\n"}}
	if *dump != "" {
		b, err := os.ReadFile(*dump)
		if err != nil {
			log.Fatal(err)
		}
		if err := json.Unmarshal(b, &answers); err != nil {
			log.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	for path, a := range answers {
		body := []byte(a.Body)
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, _ *http.Request) {
			h := w.Header()
			for k, v := range a.Header {
				h[k] = v
			}
			h.Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(a.Status)
			_, _ = w.Write(body)
		})
	}
	log.Fatal(http.ListenAndServe(*addr, mux))
}
