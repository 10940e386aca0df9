"""Check-in texts: one SMS after an agreed slot, once, with a one-tap link."""
