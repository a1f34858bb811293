"""CVE enrichment: NVD API 2.0 client, rate limit, cache, version matching, the enricher."""
