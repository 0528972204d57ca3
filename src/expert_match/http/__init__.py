"""Request plumbing shared by the JSON API and the web pages: the per-request database session,
the clock, the desk, path parameters, and who the caller is. Both adapters import it; it imports
neither."""
