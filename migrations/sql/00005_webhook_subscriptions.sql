-- +goose Up
ALTER TABLE webhooks ADD COLUMN description text;
ALTER TABLE webhooks ADD COLUMN deleted_at timestamptz;
CREATE INDEX webhooks_instance ON webhooks (instance_id, id DESC) WHERE deleted_at IS NULL;

-- +goose Down
DROP INDEX webhooks_instance;
ALTER TABLE webhooks DROP COLUMN deleted_at;
ALTER TABLE webhooks DROP COLUMN description;
