"""Dialogue policies; importing this package registers them under their Rasa names."""

from parlez.core.policies import memoization, rule, ted, unexpected_intent  # noqa: F401
