package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"misetup/api"
)

// create is a batch write creating a note.
func create(id, data string) api.BatchWrite {
	return api.BatchWrite{ID: id, ItemWrite: item(data)}
}

// batch posts writes to category's batch.
func (e *env) batch(token, category string, writes ...api.BatchWrite) resp {
	e.t.Helper()
	return e.do("POST", "/v1/cloud/"+category+"/batch", api.Batch{Writes: writes}, auth(token)...)
}

// statuses are the results' statuses.
func statuses(res api.BatchResults) []int {
	var out []int
	for _, r := range res.Results {
		out = append(out, r.Status)
	}
	return out
}

func TestCloudBatch(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.DefaultQuotaBytes = 1000 })
	s := e.signUp("ann@example.com", "phone")

	var res api.BatchResults
	e.batch(s.Token, "notes", create("a.md", "alpha"), create("shop/b.md", "beta"), create("c.md", "gamma"), create("d.md", "delta")).into(t, http.StatusOK, &res)
	if got := fmt.Sprint(statuses(res)); got != "[201 201 201 201]" {
		t.Fatalf("four creations answered %s", got)
	}
	for i, r := range res.Results {
		if r.Item == nil || r.Item.Version != 1 || r.Item.Data != nil || r.Item.Size != int64(len([]string{"alpha", "beta", "gamma", "delta"}[i])) || r.Item.Change != res.Results[0].Item.Change+int64(i) {
			t.Errorf("result %d: %+v", i, r.Item)
		}
	}
	var got api.Item
	e.do("GET", "/v1/cloud/notes/items/shop/b.md", nil, auth(s.Token)...).into(t, http.StatusOK, &got)
	if string(got.Data) != "beta" || got.Name != "Note" {
		t.Errorf("an item of the batch reads %+v", got)
	}

	// Each write under its own condition: the refused change nothing,
	// the others are made, the quota as the writes before left it.
	e.batch(s.Token, "notes",
		api.BatchWrite{ID: "a.md", Version: 1, ItemWrite: item("alpha 2")}, // 200
		api.BatchWrite{ID: "shop/b.md", Version: 7, ItemWrite: item("x")},  // 409: at 1
		create("d.md", "again"),                                    // 409: exists
		api.BatchWrite{ID: "c.md", Version: 1, Delete: true},       // 200
		api.BatchWrite{ID: "nowhere.md", Version: 1, Delete: true}, // 404
		create("big.md", strings.Repeat("x", 990)),                 // 507: 16 used of 1,000
		create("small.md", strings.Repeat("y", 900)),               // 201: fits
	).into(t, http.StatusOK, &res)
	if got := fmt.Sprint(statuses(res)); got != "[200 409 409 200 404 507 201]" {
		t.Fatalf("a mixed batch answered %s: %+v", got, res.Results)
	}
	if cur := res.Results[1].Error.Current; cur == nil || cur.Version != 1 || cur.Data != nil || cur.SHA256 != shaOf([]byte("beta")) {
		t.Errorf("a conflict's item: %+v", cur)
	}
	if q := res.Results[5].Error; q.Code != api.CodeQuotaExceeded || q.UsedBytes == nil || *q.UsedBytes != 16 {
		t.Errorf("the quota's refusal: %+v", q)
	}
	if r := res.Results[3]; r.Item == nil || !r.Item.Deleted || r.Item.Version != 2 {
		t.Errorf("a deletion's result: %+v", r.Item)
	}
	var st api.Storage
	e.do("GET", "/v1/storage", nil, auth(s.Token)...).into(t, http.StatusOK, &st)
	if st.UsedBytes != 7+4+5+900 {
		t.Errorf("storage after the batch: %+v", st)
	}

	// Input wrong anywhere refuses the whole batch, naming the write.
	for _, c := range []struct {
		category string
		writes   []api.BatchWrite
		field    string
	}{
		{"notes", nil, "writes"},
		{"notes", make([]api.BatchWrite, api.MaxBatchWrites+1), "writes"},
		{"notes", []api.BatchWrite{create("new.md", "n"), create("a/../b", "x")}, "writes[1].id"},
		{"notes", []api.BatchWrite{create("new.md", "n"), create("new.md", "m")}, "writes[1].id"},
		{"notes", []api.BatchWrite{{ID: "new.md", Version: -1}}, "writes[0].version"},
		{"notes", []api.BatchWrite{{ID: "a.md", Delete: true}}, "writes[0].version"},
		{"notes", []api.BatchWrite{{ID: "a.md", Version: 2, Delete: true, ItemWrite: item("x")}}, "writes[0].delete"},
		{"notes", []api.BatchWrite{create("new.md", "n"), {ID: "b.md", ItemWrite: api.ItemWrite{Blob: strings.Repeat("a", 64), Size: 1}}}, "writes[1].blob"},
		{"notes", []api.BatchWrite{{ID: "n.md", ItemWrite: api.ItemWrite{ContentType: "not a type", Data: []byte("x")}}}, "writes[0].content_type"},
		{"gallery", []api.BatchWrite{create("p.jpg", "x")}, ""},
	} {
		ae := e.batch(s.Token, c.category, c.writes...).apiErr(t, http.StatusBadRequest, api.CodeInvalidInput)
		if ae.Field != c.field {
			t.Errorf("%s batch %v: field %q (%s), want %q", c.category, len(c.writes), ae.Field, ae.Message, c.field)
		}
	}
	// A batch is at most about 1 MiB of data.
	var heavy []api.BatchWrite
	for i := range 5 {
		heavy = append(heavy, create(fmt.Sprint("heavy", i), strings.Repeat("h", 250<<10)))
	}
	if ae := e.batch(s.Token, "notes", heavy...).apiErr(t, http.StatusBadRequest, api.CodeInvalidInput); ae.Field != "writes" {
		t.Errorf("a batch of 1.25 MB: field %q", ae.Field)
	}
	e.do("POST", "/v1/cloud/notes/batch", `{"writes":[{"id":"x","data":"`+strings.Repeat("A", 3<<20)+`"}]}`, auth(s.Token)...).
		apiErr(t, http.StatusRequestEntityTooLarge, api.CodeBodyTooLarge)
	e.do("GET", "/v1/storage", nil, auth(s.Token)...).into(t, http.StatusOK, &st)
	if st.UsedBytes != 916 {
		t.Errorf("refused batches changed the storage: %+v", st)
	}
	e.do("POST", "/v1/cloud/notes/batch", api.Batch{Writes: []api.BatchWrite{create("z", "z")}}).apiErr(t, http.StatusUnauthorized, api.CodeUnauthorized)
}

// TestCloudBatchTogether: through the real handler on each store, batches
// changing one item at one version at once (one wins), and batches near
// the quota at once (never past it).
func TestCloudBatchTogether(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnvOn(t, kind, func(c *Config) { c.DefaultQuotaBytes = 10_000 })
			s := e.signUp("ann@example.com", "phone")
			e.batch(s.Token, "notes", create("n", "first")).into(t, http.StatusOK, nil)
			const n = 16
			won := make(chan int, n)
			burst(n, func(i int) resp {
				r := e.batch(s.Token, "notes",
					api.BatchWrite{ID: "n", Version: 1, ItemWrite: item(fmt.Sprint("writer ", i))},
					create(fmt.Sprint("own", i), strings.Repeat("o", 100)),
				)
				var res api.BatchResults
				r.into(t, http.StatusOK, &res)
				won <- res.Results[0].Status
				return r
			})
			close(won)
			count := map[int]int{}
			for st := range won {
				count[st]++
			}
			if count[http.StatusOK] != 1 || count[http.StatusConflict] != n-1 {
				t.Errorf("%d batches changing one item at version 1 at once: %v; want one 200 and %d × 409", n, count, n-1)
			}
			// 5 + 1,600 used: room for 5 of 16 batches of 1,500 bytes.
			got := burst(n, func(i int) resp {
				r := e.batch(s.Token, "calendar", create(fmt.Sprint("e", i), strings.Repeat("x", 1500)))
				var res api.BatchResults
				r.into(t, http.StatusOK, &res)
				return resp{status: res.Results[0].Status}
			})
			var st api.Storage
			e.do("GET", "/v1/storage", nil, auth(s.Token)...).into(t, http.StatusOK, &st)
			if st.UsedBytes > st.QuotaBytes || got[http.StatusCreated]*1500 != int(st.ByCategory["calendar"]) || got[http.StatusCreated] != 5 {
				t.Errorf("%d batches of 1,500 bytes at once: %v, storage %+v", n, got, st)
			}
		})
	}
}
