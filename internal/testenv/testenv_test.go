package testenv_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/distributed-electrons/electrons/internal/testenv"
)

func TestDBIsMigratedAndIsolated(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, b := testenv.DB(t), testenv.DB(t)
	if a.URL == b.URL {
		t.Fatalf("two tests share database %s", a.URL)
	}

	// Migrated: River's tables are there.
	for _, env := range []*testenv.DBEnv{a, b} {
		var n int
		if err := env.Pool.QueryRow(ctx, "SELECT count(*) FROM river_job").Scan(&n); err != nil {
			t.Fatalf("river_job in %s: %v", env.URL, err)
		}
	}

	if _, err := a.Pool.Exec(ctx, "CREATE TABLE only_in_a (id int)"); err != nil {
		t.Fatal(err)
	}
	var exists bool
	if err := a.Pool.QueryRow(ctx, "SELECT to_regclass('only_in_a') IS NOT NULL").Scan(&exists); err != nil || !exists {
		t.Fatalf("table missing in its own database: exists=%v err=%v", exists, err)
	}
	if err := b.Pool.QueryRow(ctx, "SELECT to_regclass('only_in_a') IS NOT NULL").Scan(&exists); err != nil || exists {
		t.Fatalf("table leaked into another database: exists=%v err=%v", exists, err)
	}

	// URL connects to the same database as Pool.
	conn, err := pgx.Connect(ctx, a.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, "SELECT to_regclass('only_in_a') IS NOT NULL").Scan(&exists); err != nil || !exists {
		t.Fatalf("URL does not reach the test database: exists=%v err=%v", exists, err)
	}
}

func TestDBIsDroppedAfterTest(t *testing.T) {
	t.Parallel()
	var name string
	if !t.Run("inner", func(t *testing.T) {
		env := testenv.DB(t)
		if err := env.Pool.QueryRow(t.Context(), "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
	}) {
		return
	}
	admin := testenv.DB(t) // any connection to the server will do
	var n int
	if err := admin.Pool.QueryRow(t.Context(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database %s still exists after its test", name)
	}
}

func TestDBManyInParallel(t *testing.T) {
	t.Parallel()
	for i := range 6 {
		t.Run(string(rune('a'+i)), func(t *testing.T) {
			t.Parallel()
			env := testenv.DB(t)
			if _, err := env.Pool.Exec(t.Context(), "CREATE TABLE x (id int)"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestNATSNamespaceCleanup(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var env *testenv.NATSEnv
	if !t.Run("inner", func(t *testing.T) {
		env = testenv.NATS(t)
		if env.Namespace == "" || strings.ToLower(env.Namespace) != env.Namespace {
			t.Fatalf("namespace %q is not lowercase", env.Namespace)
		}
		js := jetStream(t, env.URL)
		prefix := strings.ToUpper(env.Namespace) + "_"
		for _, s := range []string{"INTAKE", "EVENTS"} {
			_, err := js.CreateStream(ctx, jetstream.StreamConfig{
				Name:     prefix + s,
				Subjects: []string{env.Namespace + "." + strings.ToLower(s) + ".>"},
				Storage:  jetstream.MemoryStorage,
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: prefix + "kv", Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		if got := streamsWithPrefix(t, js, env.Namespace); len(got) != 3 {
			t.Fatalf("streams before cleanup: %v", got)
		}
	}) {
		return
	}
	if got := streamsWithPrefix(t, jetStream(t, env.URL), env.Namespace); len(got) != 0 {
		t.Fatalf("streams left after cleanup: %v", got)
	}
}

func TestNATSNamespacesDiffer(t *testing.T) {
	t.Parallel()
	if a, b := testenv.NATS(t), testenv.NATS(t); a.Namespace == b.Namespace {
		t.Fatalf("namespace %s given twice", a.Namespace)
	}
}

func jetStream(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func streamsWithPrefix(t *testing.T, js jetstream.JetStream, namespace string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lister := js.StreamNames(ctx)
	var out []string
	for name := range lister.Name() {
		if strings.Contains(strings.ToUpper(name), strings.ToUpper(namespace)+"_") {
			out = append(out, name)
		}
	}
	if err := lister.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestS3RoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var env *testenv.S3Env
	var client *minio.Client
	if !t.Run("inner", func(t *testing.T) {
		env = testenv.S3(t)
		client = s3Client(t, env)

		// The bucket is fresh.
		for obj := range client.ListObjects(ctx, env.Bucket, minio.ListObjectsOptions{Recursive: true}) {
			t.Fatalf("fresh bucket holds %s (err %v)", obj.Key, obj.Err)
		}

		body := []byte("hello, electrons")
		if _, err := client.PutObject(ctx, env.Bucket, "a/b/hello.txt", bytes.NewReader(body), int64(len(body)),
			minio.PutObjectOptions{ContentType: "text/plain"}); err != nil {
			t.Fatal(err)
		}
		obj, err := client.GetObject(ctx, env.Bucket, "a/b/hello.txt", minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer obj.Close()
		got, err := io.ReadAll(obj)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("got %q, want %q", got, body)
		}
	}) {
		return
	}
	// The bucket is gone, objects and all.
	ok, err := client.BucketExists(ctx, env.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Fatalf("bucket %s still exists after its test", env.Bucket)
	}
}

func s3Client(t *testing.T, env *testenv.S3Env) *minio.Client {
	t.Helper()
	c, err := minio.New(env.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(env.AccessKey, env.SecretKey, ""),
		Region: env.Region,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
