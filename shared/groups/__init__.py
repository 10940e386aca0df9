"""Peer supervision groups: the agreement, members and conveners, meetings (series + exceptions), reminders, the calendar feed."""
