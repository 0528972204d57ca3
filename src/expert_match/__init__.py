"""expert-match: expert matching and consultation tickets for Da Nang's digital transformation."""

__version__ = "0.1.0"
