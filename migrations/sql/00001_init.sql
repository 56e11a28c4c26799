-- +goose Up
CREATE TABLE instances (
    id                 text PRIMARY KEY,
    name               text NOT NULL UNIQUE,
    webhook_secret     text NOT NULL,
    prev_webhook_secret text,
    prev_secret_until  timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id          text PRIMARY KEY,
    instance_id text NOT NULL REFERENCES instances(id),
    hash        bytea NOT NULL UNIQUE,
    hint        text NOT NULL,
    admin       boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE models (
    id             text PRIMARY KEY,
    provider       text NOT NULL,
    provider_model text NOT NULL,
    task_type      text NOT NULL,
    enabled        boolean NOT NULL DEFAULT true,
    defaults       jsonb NOT NULL DEFAULT '{}',
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- routes: per task type, the ordered models to try; the first whose provider is enabled wins.
CREATE TABLE routes (
    task_type  text PRIMARY KEY,
    models     text[] NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE batches (
    id           text PRIMARY KEY,
    instance_id  text NOT NULL REFERENCES instances(id),
    status       text NOT NULL,
    callback_url text,
    metadata     jsonb,
    total        int NOT NULL,
    done         int NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);
CREATE INDEX batches_instance ON batches (instance_id, id);

CREATE TABLE requests (
    id              text PRIMARY KEY,
    instance_id     text NOT NULL REFERENCES instances(id),
    batch_id        text REFERENCES batches(id),
    custom_id       text,
    status          text NOT NULL,
    task_type       text NOT NULL,
    model           text,
    provider        text,
    priority        smallint NOT NULL,
    attempts        int NOT NULL DEFAULT 0,
    input           jsonb NOT NULL,
    metadata        jsonb,
    callback_url    text,
    idempotency_key text,
    body_hash       bytea,
    result          jsonb,
    error           jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz
);
CREATE UNIQUE INDEX requests_idempotency ON requests (instance_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX requests_instance ON requests (instance_id, id DESC);
CREATE INDEX requests_instance_status ON requests (instance_id, status, id DESC);
CREATE INDEX requests_batch ON requests (batch_id, id) WHERE batch_id IS NOT NULL;

-- outbox: messages committed with their rows and not yet published to NATS.
CREATE TABLE outbox (
    id         bigserial PRIMARY KEY,
    subject    text NOT NULL,
    msg_id     text NOT NULL,
    payload    bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE artifacts (
    id           text PRIMARY KEY,
    instance_id  text NOT NULL REFERENCES instances(id),
    request_id   text NOT NULL REFERENCES requests(id),
    storage_key  text NOT NULL,
    content_type text NOT NULL,
    size_bytes   bigint NOT NULL,
    sha256       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX artifacts_request ON artifacts (request_id);

CREATE TABLE webhooks (
    id          text PRIMARY KEY,
    instance_id text NOT NULL REFERENCES instances(id),
    url         text NOT NULL,
    event_types text[] NOT NULL,
    secret      text NOT NULL,
    enabled     boolean NOT NULL DEFAULT true,
    disabled_reason text,
    failing_since timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- webhook_deliveries: one per event and target; id is the stable webhook-id.
CREATE TABLE webhook_deliveries (
    id           text PRIMARY KEY,
    instance_id  text NOT NULL REFERENCES instances(id),
    webhook_id   text REFERENCES webhooks(id),
    event_type   text NOT NULL,
    entity_id    text NOT NULL,
    url          text NOT NULL,
    payload      bytea NOT NULL,
    status       text NOT NULL DEFAULT 'pending',
    attempts     int NOT NULL DEFAULT 0,
    last_status_code int,
    last_error   text,
    next_attempt_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_instance ON webhook_deliveries (instance_id, status, id DESC);

CREATE TABLE webhook_attempts (
    id          bigserial PRIMARY KEY,
    delivery_id text NOT NULL REFERENCES webhook_deliveries(id),
    attempt     int NOT NULL,
    status_code int,
    error       text,
    duration_ms int NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);

CREATE TABLE events (
    id          text PRIMARY KEY,
    instance_id text NOT NULL REFERENCES instances(id),
    type        text NOT NULL,
    entity_type text NOT NULL,
    entity_id   text NOT NULL,
    data        jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_instance ON events (instance_id, id DESC);

-- +goose Down
DROP TABLE events;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE artifacts;
DROP TABLE outbox;
DROP TABLE requests;
DROP TABLE batches;
DROP TABLE routes;
DROP TABLE models;
DROP TABLE api_keys;
DROP TABLE instances;
