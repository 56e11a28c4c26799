// Package nats connects to NATS JetStream (or starts an embedded server) and owns the names of
// our streams and subjects.
package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config says where NATS is.
type Config struct {
	// URL of the NATS server. Default: empty, which starts an embedded server with JetStream
	// stored under DataDir.
	URL string
	// DataDir holds the embedded server's store (DataDir/nats).
	DataDir string
	// Namespace prefixes every stream (upper case) and subject (as is). Default "electrons".
	Namespace string
	// Name is the client connection name shown by the server.
	Name string
}

// Conn is a connection with JetStream and our names.
type Conn struct {
	NC        *nats.Conn
	JS        jetstream.JetStream
	namespace string
	embedded  *server.Server
}

// Connect connects (or starts the embedded server and connects in process).
func Connect(ctx context.Context, cfg Config) (*Conn, error) {
	if cfg.Namespace == "" {
		cfg.Namespace = "electrons"
	}
	opts := []nats.Option{nats.Name(cfg.Name), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}
	c := &Conn{namespace: cfg.Namespace}
	url := cfg.URL
	if url == "" {
		ns, err := server.NewServer(&server.Options{
			JetStream:  true,
			StoreDir:   filepath.Join(cfg.DataDir, "nats"),
			DontListen: true,
			NoSigs:     true,
		})
		if err != nil {
			return nil, fmt.Errorf("embedded nats: %w", err)
		}
		go ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			ns.Shutdown()
			return nil, errors.New("embedded nats did not start within 10s")
		}
		c.embedded = ns
		url = ns.ClientURL()
		opts = append(opts, nats.InProcessServer(ns))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		c.shutdown()
		return nil, fmt.Errorf("connect nats %s: %w", url, err)
	}
	c.NC = nc
	js, err := jetstream.New(nc)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	c.JS = js
	return c, nil
}

func (c *Conn) shutdown() {
	if c.embedded != nil {
		c.embedded.Shutdown()
		c.embedded.WaitForShutdown()
	}
}

// Close drains the connection and stops the embedded server if there is one.
func (c *Conn) Close() {
	if c.NC != nil {
		_ = c.NC.Drain()
		for i := 0; i < 100 && !c.NC.IsClosed(); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		c.NC.Close()
	}
	c.shutdown()
}

// IntakeStream is the name of the stream that carries accepted requests to the router.
func (c *Conn) IntakeStream() string { return strings.ToUpper(c.namespace) + "_INTAKE" }

// IntakeSubject is the subject accepted requests are published on.
func (c *Conn) IntakeSubject() string { return c.namespace + ".intake.requests" }

// StatusSubject is the core-NATS subject on which a request's status changes and deltas are announced.
func (c *Conn) StatusSubject(requestID string) string { return c.namespace + ".live." + requestID }

// RouterConsumer is the durable consumer every router replica binds.
const RouterConsumer = "router"

// EnsureStreams creates or updates our streams and the router's consumer.
func (c *Conn) EnsureStreams(ctx context.Context) error {
	_, err := c.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       c.IntakeStream(),
		Subjects:   []string{c.namespace + ".intake.>"},
		Retention:  jetstream.WorkQueuePolicy,
		Storage:    jetstream.FileStorage,
		Duplicates: 2 * time.Minute,
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", c.IntakeStream(), err)
	}
	_, err = c.JS.CreateOrUpdateConsumer(ctx, c.IntakeStream(), jetstream.ConsumerConfig{
		Durable:       RouterConsumer,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       10 * time.Second,
		MaxDeliver:    -1,
		MaxAckPending: 2000,
	})
	if err != nil {
		return fmt.Errorf("consumer %s: %w", RouterConsumer, err)
	}
	return nil
}

// Ping reports whether the connection and JetStream answer.
func (c *Conn) Ping(ctx context.Context) error {
	if !c.NC.IsConnected() {
		return errors.New("nats not connected")
	}
	_, err := c.JS.AccountInfo(ctx)
	return err
}

// LiveEvent is a live update of a request, carried on its StatusSubject.
type LiveEvent struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// Publish announces a live update of a request (status change or text delta). It is best
// effort: the database stays the source of truth, and watchers re-read it.
func (c *Conn) Publish(requestID, event string, data any) {
	d, err := json.Marshal(data)
	if err != nil {
		return
	}
	b, _ := json.Marshal(LiveEvent{Event: event, Data: d})
	_ = c.NC.Publish(c.StatusSubject(requestID), b)
}
