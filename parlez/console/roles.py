"""Who may do what in the console: every route names the capability it needs."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    DESIGNER = "designer"
    AGENT = "agent"
    VIEWER = "viewer"


class Capability(StrEnum):
    #: read the inbox and the conversations
    READ = "read"
    #: see how the assistant understood each message (its intent and confidence)
    UNDERSTANDING = "understanding"
    #: take a conversation over, answer the customer, hand it back, resolve it
    ANSWER = "answer"
    #: change what the whole team shares: canned replies
    SETTINGS = "settings"
    #: change what the assistant knows and says: the knowledge base
    TEACH = "teach"
    #: read the audit log
    AUDIT = "audit"
    #: read the reports: the service's figures, each colleague's included
    REPORTS = "reports"


ALLOWED: dict[Capability, frozenset[Role]] = {
    Capability.READ: frozenset(Role),
    Capability.UNDERSTANDING: frozenset({Role.OWNER, Role.ADMIN, Role.DESIGNER, Role.AGENT}),
    Capability.ANSWER: frozenset({Role.OWNER, Role.ADMIN, Role.AGENT}),
    Capability.SETTINGS: frozenset({Role.OWNER, Role.ADMIN}),
    Capability.TEACH: frozenset({Role.OWNER, Role.ADMIN, Role.DESIGNER}),
    Capability.AUDIT: frozenset({Role.OWNER}),
    Capability.REPORTS: frozenset({Role.OWNER, Role.ADMIN, Role.DESIGNER, Role.VIEWER}),
}


def may(role: Role, capability: Capability) -> bool:
    return role in ALLOWED[capability]
