//go:build s3

package server

// s3:// buckets (S3, MinIO and the like) for a fleet of serve processes on
// several machines. They come with a build of their own, go build -tags
// s3: the AWS SDK they need adds 12 MB to the binary and 7 ms to every
// start of it, wizard included, which a single machine never uses.
import _ "gocloud.dev/blob/s3blob"
