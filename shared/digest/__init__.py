"""The weekly digest: one email combining lapsed contacts, upcoming meetings, asks, introductions and the isolation line."""
