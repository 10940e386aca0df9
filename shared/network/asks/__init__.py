"""Asks: a question to peers (pact colleagues, a group, a directory specialty), its inboxes and replies."""
