"""`parlez run actions`: serve the project's rasa_sdk custom actions over Rasa's protocol."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from parlez.cli.usage import shows_help
from parlez.exceptions import ParlezError


class ActionsPackageError(ParlezError):
    code = "P321"


def run_actions(args: argparse.Namespace) -> int:
    from rasa_sdk.endpoint import run
    from rasa_sdk.executor import ActionExecutor

    sys.path.insert(0, os.getcwd())  # `actions` is a package of the project, as in Rasa
    executor = ActionExecutor()
    try:
        executor.register_package(args.actions)
    except ImportError as error:
        raise ActionsPackageError(
            f"the actions package '{args.actions}' cannot be imported: {error}",
            hint="run this in the project folder, or name the package with --actions",
        ) from error
    os.environ.setdefault("SANIC_HOST", args.host)
    run(executor, port=args.port, cors_origins=args.cors)
    return 0


def register(commands: Any) -> None:
    run = commands.add_parser("run", help="run servers")
    sub = run.add_subparsers(dest="run_what", metavar="WHAT")
    actions = sub.add_parser("actions", help="serve custom actions (Rasa's action server protocol)")
    actions.add_argument("--actions", default="actions", help="package of rasa_sdk actions")
    actions.add_argument("-p", "--port", type=int, default=5055, help="port (default 5055)")
    actions.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    actions.add_argument("--cors", nargs="*", default=None, help="allowed CORS origins")
    actions.set_defaults(handler=run_actions)
    run.set_defaults(handler=shows_help(run))
