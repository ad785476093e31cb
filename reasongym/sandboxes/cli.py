"""``reasongym sandbox build`` and ``reasongym sandbox doctor``.

``reasongym.cli`` calls :func:`add_subcommands`; ``python -m reasongym.sandboxes.cli ...``
runs the same commands without it (the setup script uses that).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path


def cmd_build(args: argparse.Namespace) -> int:
    from reasongym.sandboxes.build import build_image, image_is_current
    from reasongym.sandboxes.errors import SandboxError

    def say(message: str) -> None:
        print(f"[sandbox build] {message}", file=sys.stderr, flush=True)

    try:
        if args.if_missing and image_is_current(args.tag):
            say(f"{args.tag} is present and up to date; nothing to do")
            return 0
        build_image(
            tag=args.tag,
            base=args.base,
            offline=args.offline,
            suite=args.suite,
            mirror=args.mirror,
            cache_dir=Path(args.cache_dir) if args.cache_dir else None,
            say=say,
        )
    except SandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from reasongym.sandboxes.doctor import FAIL, print_report, run_doctor

    rows = run_doctor(args.backend, image=args.image)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        print_report(rows)
    return 1 if any(r.status == FAIL for r in rows) else 0


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``sandbox build`` and ``sandbox doctor`` to a ``reasongym`` subparsers object."""
    from reasongym.sandboxes.build import DEFAULT_BASE, DEFAULT_SUITE
    from reasongym.sandboxes.engine import DEFAULT_IMAGE

    sandbox = subparsers.add_parser("sandbox", help="build and check the code-execution sandbox")
    sub = sandbox.add_subparsers(dest="sandbox_command", required=True)

    p = sub.add_parser(
        "build",
        help=f"build the sandbox image ({DEFAULT_IMAGE})",
        description="Build the sandbox image from the Dockerfile shipped in reasongym. When the "
        "base image cannot be pulled (or with --offline) the base is a Debian rootfs made "
        "with mmdebstrap and brought in with `docker import`.",
    )
    p.add_argument("--tag", default=DEFAULT_IMAGE, help=f"image to build (default {DEFAULT_IMAGE})")
    p.add_argument(
        "--base", default=DEFAULT_BASE, help=f"base image with python3 (default {DEFAULT_BASE})"
    )
    p.add_argument(
        "--offline", action="store_true", help="never pull: local base or mmdebstrap rootfs"
    )
    p.add_argument("--suite", default=DEFAULT_SUITE, help="Debian suite for the offline base")
    p.add_argument("--mirror", help="Debian mirror for mmdebstrap (default: its own)")
    p.add_argument(
        "--cache-dir",
        help="where the rootfs tarball is cached (default ~/.cache/reasongym/sandbox)",
    )
    p.add_argument(
        "--if-missing",
        action="store_true",
        help="do nothing when the image exists and was built from this Dockerfile",
    )
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("doctor", help="report what works: engine, image, pool, each limit")
    p.add_argument("--backend", choices=("all", "docker", "process"), default="all")
    p.add_argument("--image", default=DEFAULT_IMAGE)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_doctor)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reasongym.sandboxes.cli")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["sandbox", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
