"""``reasongym sandbox build`` / ``doctor`` and the image recipe."""

from __future__ import annotations

import argparse
import json

import pytest
from sandbox_helpers import IMAGE

from reasongym.sandboxes import cli


def test_subcommands_are_added_to_a_parser():
    parser = argparse.ArgumentParser()
    cli.add_subcommands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sandbox", "build", "--offline", "--if-missing"])
    assert args.func is cli.cmd_build and args.offline and args.if_missing
    args = parser.parse_args(["sandbox", "doctor", "--backend", "process", "--json"])
    assert args.func is cli.cmd_doctor and args.backend == "process"


def test_doctor_process_backend(capsys):
    assert cli.main(["doctor", "--backend", "process", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_name = {r["name"]: r for r in rows}
    assert by_name["test run"]["status"] == "ok"
    assert by_name["timeout"]["status"] == "ok"


@pytest.mark.docker
def test_doctor_docker_all_ok(capsys):
    assert cli.main(["doctor", "--backend", "docker", "--json", "--image", IMAGE]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["status"] for r in rows} == {"ok"}, rows
    names = {r["name"] for r in rows}
    assert {
        "engine",
        "image",
        "pool start",
        "network off",
        "memory",
        "pids",
        "nothing left",
    } <= names


@pytest.mark.docker
def test_build_if_missing_is_a_no_op_when_current(capsys):
    from reasongym.sandboxes.build import image_is_current

    if not image_is_current(IMAGE):
        pytest.skip(f"{IMAGE} was built from another Dockerfile; rebuild it to run this")
    assert cli.main(["build", "--offline", "--if-missing"]) == 0
    assert "nothing to do" in capsys.readouterr().err


@pytest.mark.docker
@pytest.mark.slow
def test_build_from_a_local_base():
    import docker

    from reasongym.sandboxes.build import LABEL_RECIPE, build_image, recipe_hash

    client = docker.from_env()
    base = client.images.get(IMAGE)  # any local image with python3 will do as a base
    tag = "reasongym-sandbox:test-build"
    try:
        build_image(tag=tag, base=base.id, offline=True, client=client, say=lambda _: None)
        image = client.images.get(tag)
        assert image.labels[LABEL_RECIPE] == recipe_hash()
        out = client.containers.run(
            tag,
            ["python3", "-c", "import os; print(os.getuid())"],
            remove=True,
            network_mode="none",
        )
        assert out.decode().strip() == "1000"
    finally:
        try:
            client.images.remove(tag, force=True)
        except docker.errors.ImageNotFound:
            pass
