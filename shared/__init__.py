"""Code every function shares: the domain, the PynamoDB models, settings and thin AWS adapters."""
