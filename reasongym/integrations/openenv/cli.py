"""``reasongym serve ENV_ID``: serve an env over OpenEnv's protocol (or build its image)."""

from __future__ import annotations

import argparse
import json


def _cmd_serve(args: argparse.Namespace) -> int:
    if args.build_image:
        from reasongym.integrations.openenv.image import build_image

        print(build_image(tag=args.tag, offline=True))
        return 0
    if not args.env_id:
        raise SystemExit(
            "reasongym serve: give an ENV_ID (e.g. reasongym/Math-v0) or --build-image"
        )
    from reasongym.integrations.openenv.server import ServeConfig, serve

    config = ServeConfig(
        env_id=args.env_id,
        env_kwargs=json.loads(args.env_kwargs) if args.env_kwargs else {},
        max_sessions=args.max_sessions,
        idle_timeout_s=args.idle_timeout or None,
        allowed_origins=args.allow_origin or [],
    )
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
    p.add_argument("--max-sessions", type=int, default=64, help="concurrent WebSocket sessions")
    p.add_argument(
        "--idle-timeout",
        type=float,
        default=600.0,
        help="close sessions idle this many seconds (0: never)",
    )
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
