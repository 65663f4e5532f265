//go:build s3

package bucket

import (
	"context"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"gocloud.dev/blob/memblob"
)

func TestGocloudMemory(t *testing.T) { testBucket(t, Gocloud(memblob.OpenBucket(nil))) }

// TestS3 opens an s3:// URL, as a fleet's configuration names MinIO, on an
// S3 server of gofakes3's on loopback: the AWS SDK's requests, signed,
// over HTTP.
func TestS3(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("misetup"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "misetup")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "misetup-secret")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	// gofakes3 answers a range with the whole object's checksum, which
	// the SDK would check the part against (S3 itself does not).
	t.Setenv("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_required")
	q := url.Values{"region": {"us-east-1"}, "endpoint": {srv.URL}, "use_path_style": {"true"}}
	b, err := Open(context.Background(), "s3://misetup?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	testBucket(t, b)
}
