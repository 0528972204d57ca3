"""Load tests against a running server: ``expert-match bench api`` and the soak run."""
