"""The domain: pure functions and small classes over plain data. No boto3, no clock, no environment."""
