-- +goose Up
-- provider_job: the handle of a long-running provider job (a Veo operation, a Shotstack render)
-- that a request is waiting on; the worker polls it instead of calling the provider again.
ALTER TABLE requests ADD COLUMN provider_job text;

INSERT INTO models (id, provider, provider_model, task_type) VALUES
    ('tts-1',             'openai',       'tts-1',     'audio'),
    ('ideogram-v3',       'ideogram',     'V_3',       'image'),
    ('openaicompat-text', 'openaicompat', 'default',   'text'),
    ('gemini-2.5-flash',  'gemini',       'gemini-2.5-flash', 'text')
ON CONFLICT (id) DO NOTHING;

UPDATE routes SET models = ARRAY['claude-3-5-haiku', 'gpt-4o-mini', 'gemini-2.5-flash', 'claude-3-5-sonnet', 'gpt-4o', 'openaicompat-text', 'local-text'] WHERE task_type = 'text';
UPDATE routes SET models = ARRAY['eleven-multilingual-v2', 'tts-1', 'local-audio'] WHERE task_type = 'audio';
UPDATE routes SET models = ARRAY['dall-e-3', 'ideogram-v3', 'ideogram-v2', 'gemini-2.5-flash-image', 'dall-e-2', 'local-image'] WHERE task_type = 'image';

-- +goose Down
UPDATE routes SET models = ARRAY['claude-3-5-haiku', 'gpt-4o-mini', 'claude-3-5-sonnet', 'gpt-4o', 'local-text'] WHERE task_type = 'text';
UPDATE routes SET models = ARRAY['eleven-multilingual-v2', 'local-audio'] WHERE task_type = 'audio';
UPDATE routes SET models = ARRAY['dall-e-3', 'ideogram-v2', 'gemini-2.5-flash-image', 'dall-e-2', 'local-image'] WHERE task_type = 'image';
DELETE FROM models WHERE id IN ('tts-1', 'ideogram-v3', 'openaicompat-text', 'gemini-2.5-flash');
ALTER TABLE requests DROP COLUMN provider_job;
