"""Members: the profile, away mode (and the notice colleagues get), export and erasure."""
