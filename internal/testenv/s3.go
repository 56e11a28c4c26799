package testenv

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3EnvFile is where scripts/services.sh writes the S3 settings, relative to
// the module root.
const S3EnvFile = ".cache/services/s3.env"

// S3Env is a bucket of its own for one test on the test S3 server.
type S3Env struct {
	// Endpoint is host:port, without a scheme; the server speaks plain HTTP.
	Endpoint  string
	AccessKey string
	SecretKey string
	// Bucket exists, is empty at the start and is removed with its objects
	// when the test ends.
	Bucket string
	// Region is us-east-1.
	Region string
}

// S3 creates a fresh bucket on the test S3 server. The settings come from
// ELECTRONS_TEST_S3_ENDPOINT, ELECTRONS_TEST_S3_ACCESS_KEY and
// ELECTRONS_TEST_S3_SECRET_KEY, each falling back to S3EnvFile at the module
// root, which `make services` writes.
func S3(t testing.TB) *S3Env {
	t.Helper()
	env, err := s3Settings()
	if err != nil {
		t.Fatalf("testenv: S3 is not configured: %v\nrun `make services` (it starts versitygw and writes %s)", err, S3EnvFile)
	}
	env.Region = "us-east-1"
	env.Bucket = "electrons-test-" + randomName(12)

	// Fail fast: the client would retry a refused connection for seconds.
	if conn, err := net.DialTimeout("tcp", env.Endpoint, 3*time.Second); err != nil {
		t.Fatalf("testenv: S3 at %s is unreachable: %v\nrun `make services`", env.Endpoint, err)
	} else {
		conn.Close()
	}

	client, err := env.client()
	if err != nil {
		t.Fatalf("testenv: S3 client for %s: %v", env.Endpoint, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := client.MakeBucket(ctx, env.Bucket, minio.MakeBucketOptions{Region: env.Region}); err != nil {
		t.Fatalf("testenv: S3 at %s: make bucket %s: %v\nis the S3 server running? run `make services`", env.Endpoint, env.Bucket, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := removeBucket(ctx, client, env.Bucket); err != nil {
			t.Errorf("testenv: remove bucket %s: %v", env.Bucket, err)
		}
	})
	return env
}

func (e *S3Env) client() (*minio.Client, error) {
	return minio.New(e.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(e.AccessKey, e.SecretKey, ""),
		Region: e.Region,
	})
}

// s3Settings reads the settings from the environment and, for what is missing
// there, from S3EnvFile.
func s3Settings() (*S3Env, error) {
	vars := map[string]string{}
	keys := []string{"ELECTRONS_TEST_S3_ENDPOINT", "ELECTRONS_TEST_S3_ACCESS_KEY", "ELECTRONS_TEST_S3_SECRET_KEY"}
	for _, k := range keys {
		vars[k] = os.Getenv(k)
	}
	var fileErr error
	if vars[keys[0]] == "" || vars[keys[1]] == "" || vars[keys[2]] == "" {
		fileErr = readEnvFile(vars)
	}
	for _, k := range keys {
		if vars[k] == "" {
			if fileErr != nil {
				return nil, fmt.Errorf("%s is unset and %w", k, fileErr)
			}
			return nil, fmt.Errorf("%s is unset and missing from %s", k, S3EnvFile)
		}
	}
	endpoint := vars[keys[0]]
	endpoint = strings.TrimPrefix(endpoint, "http://")
	endpoint = strings.TrimSuffix(endpoint, "/")
	return &S3Env{Endpoint: endpoint, AccessKey: vars[keys[1]], SecretKey: vars[keys[2]]}, nil
}

// readEnvFile fills the empty entries of vars from S3EnvFile's KEY=VALUE lines.
func readEnvFile(vars map[string]string) error {
	root, err := moduleRoot()
	if err != nil {
		return fmt.Errorf("cannot find %s: %w", S3EnvFile, err)
	}
	f, err := os.Open(filepath.Join(root, S3EnvFile))
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", S3EnvFile, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		k = strings.TrimSpace(strings.TrimPrefix(k, "export "))
		if cur, known := vars[k]; known && cur == "" {
			vars[k] = strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return sc.Err()
}

// removeBucket deletes every object and unfinished upload in bucket, then the
// bucket.
func removeBucket(ctx context.Context, client *minio.Client, bucket string) error {
	objects := make(chan minio.ObjectInfo)
	var listErr error
	go func() {
		defer close(objects)
		for obj := range client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
			if obj.Err != nil {
				listErr = obj.Err
				return
			}
			select {
			case objects <- obj:
			case <-ctx.Done():
				return
			}
		}
	}()
	for rerr := range client.RemoveObjects(ctx, bucket, objects, minio.RemoveObjectsOptions{}) {
		if rerr.Err != nil {
			return fmt.Errorf("remove object %s: %w", rerr.ObjectName, rerr.Err)
		}
	}
	if listErr != nil {
		return fmt.Errorf("list objects: %w", listErr)
	}
	for up := range client.ListIncompleteUploads(ctx, bucket, "", true) {
		if up.Err != nil {
			return fmt.Errorf("list uploads: %w", up.Err)
		}
		if err := client.RemoveIncompleteUpload(ctx, bucket, up.Key); err != nil {
			return fmt.Errorf("abort upload %s: %w", up.Key, err)
		}
	}
	return client.RemoveBucket(ctx, bucket)
}
