"""Invitations by email, to members and to colleagues who are not members yet: the use-cases and the one email."""
