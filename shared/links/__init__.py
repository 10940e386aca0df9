"""One-tap links from emails and texts: the secrets (tokens) and what their pages do (actions)."""
