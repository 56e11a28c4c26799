package api

import _ "embed"

// OpenAPIDocument is the OpenAPI 3.0 document of the v1 HTTP API (openapi.yaml), served at
// GET /openapi.yaml. It is the contract of every operation and the oracle the tests check each
// response against (internal/oracle).
//
//go:embed openapi.yaml
var OpenAPIDocument []byte
