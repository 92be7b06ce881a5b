"""`parlez run`: serve the assistant (Rasa's flags); `parlez run actions`: its action server."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from parlez.cli.commands import help_of
from parlez.exceptions import ParlezError
from parlez.log_context import current_conversation, stamp_conversations

#: where `--auth-token` and `--jwt-secret` are read from when not given
AUTH_TOKEN_ENV = "PARLEZ_AUTH_TOKEN"
JWT_SECRET_ENV = "PARLEZ_JWT_SECRET"
SSL_PASSWORD_ENV = "PARLEZ_SSL_PASSWORD"


class ActionsPackageError(ParlezError):
    code = "P321"


def run_actions(args: argparse.Namespace) -> int:
    from rasa_sdk.endpoint import create_app_for_serve
    from rasa_sdk.executor import ActionExecutor

    from parlez.core.actions.custom import warm_up_package

    sys.path.insert(0, os.getcwd())  # `actions` is a package of the project, as in Rasa
    executor = ActionExecutor()
    try:
        executor.register_package(args.actions)
    except ImportError as error:
        raise ActionsPackageError(
            f"the actions package '{args.actions}' cannot be imported: {error}",
            hint="run this in the project folder, or name the package with --actions",
        ) from error
    warm_up_package(args.actions)
    # --host, when given, wins over SANIC_HOST (which rasa_sdk's own runner reads).
    host = args.host or os.environ.get("SANIC_HOST") or "127.0.0.1"
    app = create_app_for_serve(executor, cors_origins=args.cors)
    # One process, as `parlez run` serves: Sanic's worker manager left workers running
    # (and spinning) after SIGTERM; in a single process the signal stops the server.
    app.run(host=host, port=args.port, single_process=True, motd=False, access_log=False)
    return 0


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        import json

        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        conversation = getattr(record, "conversation_id", None) or current_conversation()
        if conversation is not None:
            entry["conversation_id"] = conversation
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logs(args: argparse.Namespace) -> None:
    stamp_conversations()
    root = logging.getLogger()
    # A server logs what it does by default; -vv is --debug, --quiet keeps warnings.
    debug = args.debug or getattr(args, "verbose", 0) >= 2
    root.setLevel(
        logging.DEBUG
        if debug
        else logging.WARNING
        if getattr(args, "quiet", False)
        else logging.INFO
    )
    for handler in root.handlers:
        if args.log_format == "json":
            handler.setFormatter(JsonLogFormatter())
    if args.log_file:
        file_handler = logging.FileHandler(args.log_file, encoding="utf-8")
        file_handler.setFormatter(
            JsonLogFormatter()
            if args.log_format == "json"
            else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        root.addHandler(file_handler)
    # Third-party chatter stays out unless --debug.
    for noisy in ("sanic.access", "sanic.root", "sanic.server", "engineio", "socketio"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)
    # Even with --debug: the HTTP clients log each request's URL, and the messaging platforms
    # want their tokens there (Telegram's in the path, Messenger's in the query).
    for client in ("httpx", "httpcore", "twilio.http_client"):
        logging.getLogger(client).setLevel(logging.WARNING)


def run_server(args: argparse.Namespace) -> int:
    from parlez.server.run import ServeOptions, serve
    from parlez.server.tls import TlsError, TlsFiles

    configure_logs(args)
    tls = None
    if args.ssl_certificate:
        tls = TlsFiles(
            Path(args.ssl_certificate),
            Path(args.ssl_keyfile) if args.ssl_keyfile else None,
            Path(args.ssl_ca_file) if args.ssl_ca_file else None,
            args.ssl_password,
        )
    elif args.ssl_keyfile or args.ssl_ca_file:
        raise TlsError(
            "--ssl-keyfile and --ssl-ca-file go with --ssl-certificate",
            hint="give the server's certificate with --ssl-certificate",
        )
    options = ServeOptions(
        project=Path(args.project),
        model=Path(args.model),
        host=args.interface,
        port=args.port,
        enable_api=args.enable_api,
        cors=args.cors,
        auth_token=args.auth_token,
        jwt_secret=args.jwt_secret,
        jwt_method=args.jwt_method,
        credentials=Path(args.credentials) if args.credentials else None,
        endpoints=Path(args.endpoints) if args.endpoints else None,
        connector=args.connector,
        actions=args.actions,
        response_timeout=args.response_timeout,
        train_if_missing=not args.no_train,
        access_log=args.debug,
        insecure_no_auth=args.insecure_no_auth,
        tls=tls,
    )
    serve(options, say=lambda text: print(text, flush=True))
    return 0


def register(commands: Any) -> None:
    run = commands.add_parser("run", help=help_of("run"))
    run.add_argument("-m", "--model", default="models", help="model archive or folder (newest)")
    run.add_argument("--project", default=".", help="project folder (default: here)")
    run.add_argument("-i", "--interface", default="127.0.0.1", help="interface to listen on")
    run.add_argument("-p", "--port", type=int, default=5005, help="port (default 5005)")
    run.add_argument("--enable-api", action="store_true", help="serve Rasa's HTTP API as well")
    run.add_argument("--cors", nargs="*", default=None, help="allowed CORS origins ('*': any)")
    # A container passes secrets in its environment, not on a command line others can read.
    run.add_argument(
        "-t",
        "--auth-token",
        default=os.environ.get(AUTH_TOKEN_ENV) or None,
        help=f"token the API asks for (?token=); default: ${AUTH_TOKEN_ENV}",
    )
    run.add_argument(
        "--jwt-secret",
        default=os.environ.get(JWT_SECRET_ENV) or None,
        help=f"secret that signs API JWTs; default: ${JWT_SECRET_ENV}",
    )
    run.add_argument("--jwt-method", default="HS256", help="JWT algorithm (default HS256)")
    run.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="serve --enable-api beyond 127.0.0.1 with no token (a private network only)",
    )
    run.add_argument("--ssl-certificate", default=None, help="serve HTTPS with this certificate")
    run.add_argument("--ssl-keyfile", default=None, help="the certificate's private key")
    run.add_argument(
        "--ssl-ca-file", default=None, help="authorities that sign the clients' certificates"
    )
    run.add_argument(
        "--ssl-password",
        default=os.environ.get(SSL_PASSWORD_ENV) or None,
        help=f"the key's passphrase; default: ${SSL_PASSWORD_ENV}",
    )
    run.add_argument("--credentials", default=None, help="channels file (credentials.yml)")
    run.add_argument("--endpoints", default=None, help="services file (endpoints.yml)")
    run.add_argument("--connector", default=None, help="serve only this channel")
    run.add_argument("--actions", default=None, help="run this package's actions in-process")
    run.add_argument("--log-file", default=None, help="also write logs to this file")
    run.add_argument("--log-format", choices=["text", "json"], default="text")
    run.add_argument(
        "--response-timeout", type=float, default=3600, help="seconds to wait for an answer"
    )
    run.add_argument("--no-train", action="store_true", help="do not train when there is no model")
    run.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    run.set_defaults(handler=run_server)
    sub = run.add_subparsers(dest="run_what", metavar="WHAT")
    actions = sub.add_parser("actions", help="serve custom actions (Rasa's action server protocol)")
    actions.add_argument("--actions", default="actions", help="package of rasa_sdk actions")
    actions.add_argument("-p", "--port", type=int, default=5055, help="port (default 5055)")
    actions.add_argument(
        "--host", default=None, help="interface to listen on (default: $SANIC_HOST or 127.0.0.1)"
    )
    actions.add_argument("--cors", nargs="*", default=None, help="allowed CORS origins")
    actions.set_defaults(handler=run_actions)
