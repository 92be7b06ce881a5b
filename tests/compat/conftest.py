"""The server tests' app factory, for the HTTP API's compatibility tests."""

from tests.server.conftest import make_app as make_app
