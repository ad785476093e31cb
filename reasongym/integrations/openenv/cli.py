"""``reasongym serve ENV_ID``: serve an env over OpenEnv's protocol (or build its image)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reasongym.integrations.openenv.server import ServeConfig

# The limit flags: (flag, ServeConfig field, type, metavar, help). A flag left out keeps the
# field's default (ServeConfig holds them; the help repeats them for the reader, and a test
# checks that it does so faithfully). For the fields in _ZERO_IS_NONE, 0 means "no limit".
LIMIT_FLAGS: tuple[tuple[str, str, type, str, str], ...] = (
    ("--max-sessions", "max_sessions", int, "N", "concurrent sessions (default 64)"),
    (
        "--idle-timeout",
        "idle_timeout_s",
        float,
        "S",
        "close sessions idle this many seconds (default 600; 0: never)",
    ),
    (
        "--max-snapshots",
        "max_snapshots",
        int,
        "N",
        "get_state snapshots kept per session (default 256)",
    ),
    (
        "--max-snapshot-bytes",
        "max_snapshot_bytes",
        int,
        "BYTES",
        "the snapshots' total bytes per session (default 67108864, 64 MiB; 0: unbounded)",
    ),
    (
        "--max-message-bytes",
        "max_message_bytes",
        int,
        "BYTES",
        "larger request bodies and WebSocket messages are refused (default 4194304, 4 MiB)",
    ),
    (
        "--max-http-envs",
        "max_http_envs",
        int,
        "N",
        "stateless HTTP calls running at once; more wait (default 8)",
    ),
    (
        "--max-http-requests",
        "max_http_requests",
        int,
        "N",
        "POST requests in flight; more get 503 (default 64)",
    ),
    (
        "--send-timeout",
        "send_timeout_s",
        float,
        "S",
        "drop a client that does not take an answer within this many seconds (default 30)",
    ),
    (
        "--request-timeout",
        "request_timeout_s",
        float,
        "S",
        "a request's headers, and its body, must arrive within this many seconds (default 30)",
    ),
)
_ZERO_IS_NONE = frozenset({"idle_timeout_s", "max_snapshot_bytes"})


def serve_config(args: argparse.Namespace) -> ServeConfig:
    """The ``ServeConfig`` the parsed ``serve`` flags ask for; a bad value exits with a
    message naming its flag."""
    from pydantic import ValidationError

    from reasongym.integrations.openenv.server import ServeConfig

    flag_of = {field: flag for flag, field, *_ in LIMIT_FLAGS}
    flag_of.update(env_kwargs="--env-kwargs", allowed_origins="--allow-origin")
    options: dict[str, Any] = {}
    for _flag, field, *_ in LIMIT_FLAGS:
        value = getattr(args, field)
        if value is not None:
            options[field] = None if value == 0 and field in _ZERO_IS_NONE else value
    if args.env_kwargs:
        try:
            options["env_kwargs"] = json.loads(args.env_kwargs)
        except ValueError as exc:
            raise SystemExit(f"reasongym serve: --env-kwargs: not valid JSON ({exc})") from None
    try:
        return ServeConfig(env_id=args.env_id, allowed_origins=args.allow_origin or [], **options)
    except ValidationError as exc:
        problems = []
        for problem in exc.errors():
            field = str(problem["loc"][0]) if problem["loc"] else ""
            flag = flag_of.get(field, field)
            problems.append(f"{flag} {problem.get('input')!s:.80}: {problem['msg']}")
        raise SystemExit("reasongym serve: " + "; ".join(problems)) from None


def _cmd_serve(args: argparse.Namespace) -> int:
    if args.build_image:
        from reasongym.integrations.openenv.image import build_image

        print(build_image(tag=args.tag, offline=True))
        return 0
    if not args.env_id:
        raise SystemExit(
            "reasongym serve: give an ENV_ID (e.g. reasongym/Math-v0) or --build-image"
        )
    from reasongym.integrations.openenv.server import serve

    config = serve_config(args)
    print(
        f"serving {config.env_id} on http://{args.host}:{args.port} "
        f"(WebSocket /ws, up to {config.max_sessions} sessions)",
        flush=True,
    )
    serve(config, host=args.host, port=args.port)
    return 0


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve", help="serve an env over OpenEnv's HTTP/WebSocket protocol (extra 'serve')"
    )
    p.add_argument("env_id", nargs="?", help="a registered id, e.g. reasongym/Math-v0")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000)
    for flag, field, kind, metavar, text in LIMIT_FLAGS:
        p.add_argument(flag, dest=field, type=kind, default=None, metavar=metavar, help=text)
    p.add_argument("--env-kwargs", default=None, help="JSON kwargs for gym.make")
    p.add_argument(
        "--allow-origin",
        action="append",
        metavar="ORIGIN",
        help="a web page origin allowed to call the server, e.g. http://localhost:3000 "
        "(repeatable; by default requests from web pages are refused)",
    )
    p.add_argument(
        "--build-image",
        action="store_true",
        help="build the server image (offline, like the sandbox image) and exit",
    )
    p.add_argument("--tag", default="reasongym-serve:latest", help="image tag for --build-image")
    p.set_defaults(func=_cmd_serve)
