"""The SPARQL 1.1 Protocol endpoint: request parsing, pre-checks, worker pool, result formats."""
