package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config configures an S3Store (ELECTRONS_S3_*).
type S3Config struct {
	// Endpoint is host[:port] of the S3 server; an http:// or https:// prefix is accepted and
	// then decides Secure.
	Endpoint  string
	AccessKey string
	SecretKey string
	// Bucket is created if missing. Default "electrons".
	Bucket string
	// Region is the bucket's region. Default us-east-1.
	Region string
	// Secure selects https. Default false.
	Secure bool
}

// S3Store keeps artifacts in a bucket of an S3-compatible server (AWS S3, MinIO, Cloudflare
// R2, versitygw) and hands out presigned GET URLs.
type S3Store struct {
	client *minio.Client
	bucket string
}

var _ Store = (*S3Store)(nil)

// NewS3Store connects to the server and creates the bucket if it is missing.
func NewS3Store(ctx context.Context, cfg S3Config) (*S3Store, error) {
	endpoint, secure := cfg.Endpoint, cfg.Secure
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("s3 endpoint %q: want host:port or an http(s) URL", cfg.Endpoint)
		}
		endpoint, secure = u.Host, u.Scheme == "https"
	}
	endpoint = strings.TrimSuffix(endpoint, "/")
	if endpoint == "" {
		return nil, errors.New("s3 endpoint is empty")
	}
	if cfg.Bucket == "" {
		cfg.Bucket = "electrons"
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: secure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 client for %s: %w", endpoint, err)
	}
	s := &S3Store{client: client, bucket: cfg.Bucket}
	exists, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3 %s: check bucket %s: %w", endpoint, cfg.Bucket, err)
	}
	if !exists {
		err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		// Another replica may have created it meanwhile.
		if err != nil && s3Code(err) != minio.BucketAlreadyOwnedByYou {
			return nil, fmt.Errorf("s3 %s: create bucket %s: %w", endpoint, cfg.Bucket, err)
		}
	}
	return s, nil
}

func s3Code(err error) string {
	var e minio.ErrorResponse
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Put stores data under key with its content type.
func (s *S3Store) Put(ctx context.Context, key, contentType string, data []byte) error {
	if err := ValidKey(key); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	_, err := s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return fmt.Errorf("put %s in bucket %s: %w", key, s.bucket, err)
	}
	return nil
}

// Get opens the object under key.
func (s *S3Store) Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error) {
	if err := ValidKey(key); err != nil {
		return nil, ObjectInfo{}, fmt.Errorf("get %s: %w", key, err)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, ObjectInfo{}, s.getError(key, err)
	}
	// GetObject is lazy: Stat makes the request and reports a missing object.
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, ObjectInfo{}, s.getError(key, err)
	}
	return obj, ObjectInfo{Key: key, ContentType: st.ContentType, Size: st.Size, LastModified: st.LastModified}, nil
}

func (s *S3Store) getError(key string, err error) error {
	if s3Code(err) == minio.NoSuchKey {
		return fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	return fmt.Errorf("get %s from bucket %s: %w", key, s.bucket, err)
}

// URL returns a presigned GET URL valid for ttl (S3 allows at most 7 days).
func (s *S3Store) URL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", fmt.Errorf("url %s: %w", key, err)
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, ttl, nil)
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	return u.String(), nil
}

// Ping checks that the bucket exists and the credentials work.
func (s *S3Store) Ping(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("ping bucket %s: %w", s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("ping bucket %s: bucket does not exist", s.bucket)
	}
	return nil
}
