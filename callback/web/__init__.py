"""HTTP blueprints: the public API, the carrier webhooks (and, later, the admin)."""
