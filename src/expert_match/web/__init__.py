"""Server-rendered pages (Jinja, Vietnamese first). Filled by the web-interface issue."""
