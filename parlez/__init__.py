"""parlez: a Rasa-compatible conversational AI framework."""

__version__ = "0.1.0"
