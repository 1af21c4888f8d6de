package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 keeps blobs in an S3-compatible bucket under blobs/ab/<sha256>.
type S3 struct {
	c      *minio.Client
	bucket string
	name   string
}

// OpenS3 opens "s3://BUCKET?endpoint=http://host:port[&region=R]",
// creating the bucket if it does not exist.
func OpenS3(ctx context.Context, spec, accessKey, secretKey string) (*S3, error) {
	u, err := url.Parse(spec)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("--blobs: %q must be s3://BUCKET?endpoint=URL", spec)
	}
	ep := u.Query().Get("endpoint")
	if ep == "" {
		return nil, errors.New("--blobs: an s3:// store needs ?endpoint=http(s)://host:port")
	}
	e, err := url.Parse(ep)
	if err != nil || e.Host == "" {
		return nil, fmt.Errorf("--blobs: endpoint %q is not a URL", ep)
	}
	if accessKey == "" || secretKey == "" {
		return nil, errors.New("--blobs: S3 credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, which are not set")
	}
	region := u.Query().Get("region")
	if region == "" {
		region = "us-east-1"
	}
	c, err := minio.New(e.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(accessKey, secretKey, ""),
		Secure:       e.Scheme == "https",
		Region:       region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 client: %w", err)
	}
	s := &S3{c: c, bucket: u.Host, name: "s3://" + u.Host + "?endpoint=" + ep}
	exists, err := c.BucketExists(ctx, s.bucket)
	if err != nil {
		return nil, fmt.Errorf("S3 bucket %s: %w", s.bucket, err)
	}
	if !exists {
		if err := c.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region}); err != nil {
			return nil, fmt.Errorf("create S3 bucket %s: %w", s.bucket, err)
		}
	}
	return s, nil
}

// Name implements Store.
func (s *S3) Name() string { return s.name }

func (s *S3) key(sum string) string { return "blobs/" + sum[:2] + "/" + sum }

// Put implements Store. The object store acknowledges a PUT only once it
// holds the object; the content hash travels along so the server can check it.
func (s *S3) Put(ctx context.Context, sum string, data []byte) error {
	if err := validSum(sum); err != nil {
		return err
	}
	if err := Check(sum, data); err != nil {
		return err
	}
	_, err := s.c.PutObject(ctx, s.bucket, s.key(sum), bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		ContentType:    "application/octet-stream",
		SendContentMd5: true,
	})
	if err != nil {
		return fmt.Errorf("store blob in S3: %w", err)
	}
	return nil
}

// Get implements Store.
func (s *S3) Get(ctx context.Context, sum string) ([]byte, error) {
	if err := validSum(sum); err != nil {
		return nil, err
	}
	obj, err := s.c.GetObject(ctx, s.bucket, s.key(sum), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("read blob from S3: %w", err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		var er minio.ErrorResponse
		if errors.As(err, &er) && (er.Code == "NoSuchKey" || strings.Contains(er.Code, "NotFound")) {
			return nil, fmt.Errorf("%w: content %s is not in %s", ErrMissing, sum, s.name)
		}
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil, fmt.Errorf("%w: content %s is not in %s", ErrMissing, sum, s.name)
		}
		return nil, fmt.Errorf("read blob from S3: %w", err)
	}
	if err := Check(sum, data); err != nil {
		return nil, err
	}
	return data, nil
}
