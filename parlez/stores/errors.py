"""What can go wrong with a store: its configuration, its server, or the data it is given."""

from __future__ import annotations

from parlez.exceptions import ParlezError


class StoreConfigError(ParlezError):
    code = "P400"


class StoreUnavailableError(ParlezError):
    code = "P401"


class StoreDataError(ParlezError):
    """The database refused what it was given: trying again cannot help."""

    code = "P402"
