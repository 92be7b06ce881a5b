"""Old import paths that still work for one release, with a warning naming the new one."""

from __future__ import annotations

import importlib
import warnings
from typing import Any

#: (old module, name) -> the module the name lives in now
MOVED: dict[tuple[str, str], str] = {
    ("parlez.stores.tracker_store", "tracker_store_from_endpoint"): "parlez.stores.factory",
    ("parlez.stores.tracker_store", "stores_from_endpoints"): "parlez.stores.factory",
    ("parlez.stores.lock_store", "lock_store_from_endpoint"): "parlez.stores.factory",
    ("parlez.stores.event_broker", "event_broker_from_endpoint"): "parlez.stores.factory",
    ("parlez.channels.registry", "ChannelConfigError"): "parlez.channels.channel",
    ("parlez.channels.registry", "channel_class"): "parlez.channels.credentials",
    ("parlez.channels.registry", "channels_from_credentials"): "parlez.channels.credentials",
    ("parlez.training_data.message", "Message"): "parlez.training_data.example",
    ("parlez.training_data.message", "Entity"): "parlez.training_data.example",
    ("parlez.training_data.message", "split_intent"): "parlez.training_data.example",
}

#: names that changed as they moved: (old module, old name) -> the new name
RENAMED: dict[tuple[str, str], str] = {("parlez.training_data.message", "Message"): "Example"}


def moved(module: str, name: str) -> Any:
    """`name` from where it lives now, with a DeprecationWarning for the old path; an
    AttributeError for a name that never lived in `module` (a module's `__getattr__` is
    `return moved(__name__, name)`)."""
    new = MOVED.get((module, name))
    if new is None:
        raise AttributeError(f"module '{module}' has no attribute '{name}'")
    new_name = RENAMED.get((module, name), name)
    warnings.warn(
        f"{module}.{name} moved to {new}.{new_name}; the old path goes in the next release",
        DeprecationWarning,
        stacklevel=3,
    )
    return getattr(importlib.import_module(new), new_name)
