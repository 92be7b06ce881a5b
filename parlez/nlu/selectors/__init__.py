"""Response selectors for retrieval intents."""
