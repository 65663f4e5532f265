//go:build s3

package bucket

// s3:// buckets (S3, MinIO and the like) for a fleet of serve processes on
// several machines, through gocloud.dev/blob. They come with a build of
// their own, go build -tags s3: gocloud.dev/blob and the AWS SDK add 18 MB
// to the binary and half again to every start of it, wizard included
// (misetup --version: 3.7 ms against 2.5 ms), for what a single machine
// never uses.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/s3blob" // s3:// URLs
	"gocloud.dev/gcerrors"
)

func init() {
	openers["s3"] = func(ctx context.Context, u *url.URL) (Bucket, error) {
		b, err := blob.OpenBucket(ctx, u.String())
		if err != nil {
			return nil, fmt.Errorf("bucket: open %s: %w", u.Redacted(), err)
		}
		return Gocloud(b), nil
	}
}

// Gocloud is the Bucket of a gocloud.dev/blob bucket, which it owns.
func Gocloud(b *blob.Bucket) Bucket { return gocloud{b} }

type gocloud struct{ b *blob.Bucket }

// notFound turns gocloud's missing object into ErrNotFound.
func notFound(key string, err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return fmt.Errorf("bucket: %s: %w", key, err)
}

func (g gocloud) NewWriter(ctx context.Context, key string) (io.WriteCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	// gocloud's writer leaves nothing when its ctx ends before Close.
	w, err := g.b.NewWriter(ctx, key, &blob.WriterOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return nil, fmt.Errorf("bucket: new object %s: %w", key, err)
	}
	return w, nil
}

func (g gocloud) NewRangeReader(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	r, err := g.b.NewRangeReader(ctx, key, offset, length, nil)
	if err != nil {
		return nil, notFound(key, err)
	}
	return r, nil
}

// Link copies from to to on the storage's side (S3's CopyObject): no
// byte goes through this process.
func (g gocloud) Link(ctx context.Context, from, to string) error {
	if err := checkKey(to); err != nil {
		return err
	}
	if err := g.b.Copy(ctx, to, from, nil); err != nil {
		return notFound(from, err)
	}
	return nil
}

func (g gocloud) Delete(ctx context.Context, key string) error {
	if err := g.b.Delete(ctx, key); err != nil {
		return notFound(key, err)
	}
	return nil
}

func (g gocloud) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	it := g.b.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return keys, nil
		}
		if err != nil {
			return nil, fmt.Errorf("bucket: list %s: %w", prefix, err)
		}
		if !obj.IsDir {
			keys = append(keys, obj.Key)
		}
	}
}

func (g gocloud) Close() error { return g.b.Close() }
