"""Adapters: the table (PynamoDB models and helpers), AWS clients, the event bus, mail, HTTP plumbing, settings, logs.

They know nothing of capabilities: capabilities import them, never the other way round.
"""
