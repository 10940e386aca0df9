"""Introductions: asking to be introduced to a colleague in the directory, and what follows (contact details, a pact)."""
