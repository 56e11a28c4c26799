package testenv

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultNATSURL is used when ELECTRONS_TEST_NATS_URL is unset.
const DefaultNATSURL = "nats://127.0.0.1:4222"

const startNATS = "start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log   (or: make services)"

// NATSEnv is a namespace of its own for one test on the shared JetStream
// server.
type NATSEnv struct {
	// URL of the NATS server.
	URL string
	// Namespace is unique to the test: lowercase letters and digits. Name
	// streams strings.ToUpper(Namespace)+"_…" so that they are removed when
	// the test ends (KV buckets and object stores named that way too).
	Namespace string
}

// NATS checks that the JetStream server at ELECTRONS_TEST_NATS_URL (default
// DefaultNATSURL) answers and returns a fresh namespace on it. When the test
// ends, every stream in the namespace is deleted.
func NATS(t testing.TB) *NATSEnv {
	t.Helper()
	env := &NATSEnv{
		URL:       getenv("ELECTRONS_TEST_NATS_URL", DefaultNATSURL),
		Namespace: "t" + randomName(10),
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, js, err := connectJetStream(env.URL)
	if err != nil {
		t.Fatalf("testenv: NATS at %s is unreachable: %v\nstart it with: %s", redact(env.URL), err, startNATS)
	}
	defer nc.Close()
	if _, err := js.AccountInfo(ctx); err != nil {
		t.Fatalf("testenv: JetStream at %s: %v\nstart NATS with JetStream (-js): %s", redact(env.URL), err, startNATS)
	}

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		nc, js, err := connectJetStream(env.URL)
		if err != nil {
			t.Errorf("testenv: delete streams of namespace %s: %v", env.Namespace, err)
			return
		}
		defer nc.Close()
		names, err := namespaceStreams(ctx, js, env.Namespace)
		if err != nil {
			t.Errorf("testenv: list streams of namespace %s: %v", env.Namespace, err)
		}
		for _, name := range names {
			if err := js.DeleteStream(ctx, name); err != nil && err != jetstream.ErrStreamNotFound {
				t.Errorf("testenv: delete stream %s: %v", name, err)
			}
		}
	})
	return env
}

func connectJetStream(url string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(url, nats.Timeout(5*time.Second), nats.Name("electrons-testenv"))
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// namespaceStreams lists the streams that belong to namespace: named
// NAMESPACE_…, or KV_/OBJ_ followed by that (the streams behind KV buckets
// and object stores). The comparison ignores case.
func namespaceStreams(ctx context.Context, js jetstream.JetStream, namespace string) ([]string, error) {
	prefix := strings.ToUpper(namespace) + "_"
	lister := js.StreamNames(ctx)
	var names []string
	for name := range lister.Name() {
		upper := strings.ToUpper(name)
		for _, p := range []string{"", "KV_", "OBJ_"} {
			if strings.HasPrefix(upper, p+prefix) {
				names = append(names, name)
				break
			}
		}
	}
	return names, lister.Err()
}
