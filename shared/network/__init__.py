"""The network: who is in whose circle, the colleague directory, introductions, asks, suggestions, one's own support."""
