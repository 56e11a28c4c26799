// Package delivery gets results to their owners: the quality gate that scores outputs, the
// artifact stores (S3 through minio-go, or a local directory served through signed, expiring
// URLs), Standard Webhooks signing and verification, the SSRF-safe webhook sender, and the
// retry schedule of webhook deliveries.
package delivery
