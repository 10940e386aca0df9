"""Each member's private calendar feed: the secret address (keys), and the iCalendar it serves (feed)."""
