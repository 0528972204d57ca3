"""Who is calling: passwords (argon2id), web sessions, API tokens, login rate limits."""
