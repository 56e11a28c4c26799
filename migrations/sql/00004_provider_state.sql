-- +goose Up
-- provider_state: what each provider last said of its own limits, and when it asked us to wait.
CREATE TABLE provider_state (
    provider           text PRIMARY KEY,
    limit_requests     int,
    remaining_requests int,
    reset_at           timestamptz,
    cooldown_until     timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE provider_state;
