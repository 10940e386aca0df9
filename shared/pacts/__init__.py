"""Pacts and check-ins: agreeing a rhythm, recording that you talked, and planning what each party's view says next."""
