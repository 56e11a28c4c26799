-- +goose Up
INSERT INTO models (id, provider, provider_model, task_type) VALUES
    ('claude-3-5-sonnet',      'anthropic',  'claude-3-5-sonnet-latest',          'text'),
    ('claude-3-5-haiku',       'anthropic',  'claude-3-5-haiku-latest',           'text'),
    ('gpt-4o',                 'openai',     'gpt-4o',                            'text'),
    ('gpt-4o-mini',            'openai',     'gpt-4o-mini',                       'text'),
    ('dall-e-3',               'openai',     'dall-e-3',                          'image'),
    ('dall-e-2',               'openai',     'dall-e-2',                          'image'),
    ('ideogram-v2',            'ideogram',   'V_2',                               'image'),
    ('gemini-2.5-flash-image', 'gemini',     'gemini-2.5-flash-image',            'image'),
    ('veo-3.1',                'gemini',     'veo-3.1-generate-preview',          'video'),
    ('eleven-multilingual-v2', 'elevenlabs', 'eleven_multilingual_v2',            'audio'),
    ('pexels-search',          'pexels',     'pexels',                            'stock_media'),
    ('shotstack-render',       'shotstack',  'shotstack',                         'video'),
    ('local-text',             'local',      'local-text',                        'text'),
    ('local-image',            'local',      'local-image',                       'image'),
    ('local-audio',            'local',      'local-audio',                       'audio'),
    ('local-video',            'local',      'local-video',                       'video'),
    ('local-stock',            'local',      'local-stock',                       'stock_media');

INSERT INTO routes (task_type, models) VALUES
    ('text',        ARRAY['claude-3-5-haiku', 'gpt-4o-mini', 'claude-3-5-sonnet', 'gpt-4o', 'local-text']),
    ('image',       ARRAY['dall-e-3', 'ideogram-v2', 'gemini-2.5-flash-image', 'dall-e-2', 'local-image']),
    ('audio',       ARRAY['eleven-multilingual-v2', 'local-audio']),
    ('video',       ARRAY['shotstack-render', 'veo-3.1', 'local-video']),
    ('stock_media', ARRAY['pexels-search', 'local-stock']);

-- +goose Down
DELETE FROM routes;
DELETE FROM models;
