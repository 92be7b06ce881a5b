"""Actions: what the assistant does. `action_for_name` finds the one a policy predicted."""

from parlez.core.actions.action import Action, ActionContext
from parlez.core.actions.lookup import action_for_name

__all__ = ["Action", "ActionContext", "action_for_name"]
