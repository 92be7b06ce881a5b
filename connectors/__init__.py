"""The assistant's channels, referenced from credentials.yml by dotted path."""
