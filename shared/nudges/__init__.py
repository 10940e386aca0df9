"""Nudges: the sweep that finds lapses without scanning, the sender's one digest, and addresses that want no email."""
