package server

import (
	"net/http"
	"strconv"
	"testing"

	"misetup/server/bucket"
)

// BenchmarkCloudPutItem changes one 1 KiB note again and again through
// the HTTP handler on SQLite: a version check, a change number and the
// quota in one transaction, one wait for the disk.
func BenchmarkCloudPutItem(b *testing.B) {
	e := newEnv(b)
	s := e.signUp("ann@example.com", "phone")
	data := randomBytes(1 << 10)
	e.putItem(s.Token, "/v1/cloud/notes/items/n", item(string(data)), 0).into(b, http.StatusCreated, nil)
	version := int64(1)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		e.putItem(s.Token, "/v1/cloud/notes/items/n", item(string(data)), version).into(b, http.StatusOK, nil)
		version++
	}
}

// BenchmarkBlobTransfer uploads (in 8 MiB chunks) and downloads a 32 MiB
// blob through the HTTP handler into a folder bucket; MB/s is the rate of
// the blob's bytes.
func BenchmarkBlobTransfer(b *testing.B) {
	e := newEnv(b, func(c *Config) { c.BlobURL = bucket.FolderURL(b.TempDir()) })
	s := e.signUp("ann@example.com", "phone")
	const size, chunk = 32 << 20, 8 << 20
	b.Run("upload", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			data := randomBytes(size) // a new blob each time: the account has the last
			b.StopTimer()
			u := e.startUpload(s.Token, data, http.StatusCreated)
			b.StartTimer()
			for off := 0; off < size; off += chunk {
				e.patch(s.Token, u.ID, off, data[off:off+chunk]).into(b, http.StatusNoContent, nil)
			}
		}
	})
	b.Run("download", func(b *testing.B) {
		data := randomBytes(size)
		sha := e.uploadAll(s.Token, data, chunk)
		b.SetBytes(size)
		for b.Loop() {
			r := e.do("GET", "/v1/cloud/blobs/"+sha, nil, auth(s.Token)...)
			if r.status != http.StatusOK || r.header.Get("Content-Length") != strconv.Itoa(size) || len(r.body) != size {
				b.Fatalf("download: %d, %d bytes", r.status, len(r.body))
			}
		}
	})
}
