"""Hostile actions at every registered id: step() never raises, never hangs, never overpays.

For every id in ``reasongym.list_envs()`` (text and discrete modes, and the native tool-call
format of every text-facing id) this throws seeded, generated hostile actions -- JSON and
OpenAI tool-call shapes with wrong types, deep nesting, huge numbers, lone surrogates, NULs,
1 MB strings, mixed/unclosed/nested tags, calculator bombs, puzzle and ARC answer forms with
garbage, a few code answers that reach the sandbox, non-string objects -- and checks after
each step: nothing raised, the step took bounded time, the reward is finite and within what
the env's reward spec can pay (never above full credit), and the observation is in the
observation space. ``is_final`` is asked too (it must not raise either).

At least 2,000 actions per id (counted by ``test_every_id_got_at_least_2000_actions``). A hang would
otherwise block the run, so a watchdog (``faulthandler``) aborts with tracebacks after
:data:`WATCHDOG_S`.
"""

from __future__ import annotations

import faulthandler
import json
import math
import random
import reprlib
import time
import zlib
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reasongym

ENV_IDS = sorted(reasongym.list_envs())


def _marked(env_id: str) -> Any:
    """Ids whose answers run in a sandbox are ``slow`` (about 25 s each here)."""
    sandboxed = gym.spec(env_id).kwargs.get("verifier") == "code_tests"
    return pytest.param(env_id, marks=pytest.mark.slow) if sandboxed else env_id


SWEEP_IDS = [_marked(eid) for eid in ENV_IDS]
STEP_BOUND_S = 30.0  # a hang detector only (a loaded 2-core machine, Docker runs); see bench/
WATCHDOG_S = 600
MB = 1_000_000

# -- the generators -------------------------------------------------------------------------
_KEYS = [
    "name",
    "arguments",
    "function",
    "tool_calls",
    "type",
    "parameters",
    "answer",
    "expression",
    "code",
    "move",
    "role",
    "content",
    "id",
]
_NAMES = [
    "calculator",
    "python",
    "submit_answer",
    "move",
    "",
    "x" * 100,
    "\ud800",
    None,
    7,
    ["calculator"],
    {"name": "python"},
]


def _fixed_text_actions() -> list[Any]:
    """Hand-written attacks (every form issue 12 reports, and their relatives)."""
    deep = 100_000
    calc_bombs = [
        "2**2000/3",
        "10**600/7",
        "0.0**-1",
        "(10**1000)%0.0",
        "comb(10**6,5*10**5)",
        "perm(10**6,10**6)",
        "comb(10**9,5*10**8)",
        "round(1/3, 10**9)",
        "9**9**9**9",
        "factorial(10**6)",
        "lcm(" + ",".join(["99991"] * 100) + ")",
        "1e308*1e308",
        "\ud800",
        "1\x002",
        "(" * 300 + ")" * 300,
    ]
    return [
        # JSON / OpenAI shapes with wrong types
        '{"type":"function","function":"x"}',
        '{"type":"function","function":{"name":7,"arguments":"{}"}}',
        '{"type":"function","function":{"name":"calculator","arguments":7}}',
        '{"type":"function","function":{"name":"calculator","arguments":"{\\"expression\\": [1]}"}}',
        '{"tool_calls": "x"}',
        '{"tool_calls": []}',
        '{"tool_calls": [7]}',
        '{"tool_calls": [null]}',
        '{"tool_calls": [{"function": null}]}',
        '{"name": null, "arguments": null}',
        '{"name": "calculator", "arguments": "{broken"}',
        '{"name": "submit_answer", "arguments": {"answer": {"nested": [1, 2]}}}',
        '{"name": "submit_answer", "arguments": {"answer": 1e999}}',
        '{"name": "submit_answer", "arguments": "' + "9" * 5000 + '"}',
        '{"name": "python", "arguments": {"code": "print(\\"\\ud800\\")"}}',
        # deep nesting
        "[" * deep + "]" * deep,
        '{"a":' * deep + "1" + "}" * deep,
        '{"name": "calculator", "arguments": ' + '{"a":' * 5000 + "1" + "}" * 5001,
        "<answer>" * 20_000,
        "\\boxed{" * 20_000,
        '<tool name="python">' * 10_000,
        # huge numbers
        "9" * 5000,
        "<answer>" + "9" * 5000 + "</answer>",
        "\\boxed{" + "1" * MB + "}",
        '{"name": "calculator", "arguments": {"expression": ' + "9" * 5000 + "}}",
        "<answer>1e999999999</answer>",
        "<answer>10^{10^{10^{10}}}</answer>",
        "\\boxed{\\sin(10^{300})}",
        "<answer>x+10^{300}-10^{300}</answer>",
        *[f'<tool name="calculator">{bomb}</tool>' for bomb in calc_bombs],
        # surrogates and NULs
        "\ud800",
        "<answer>\ud800</answer>",
        "\\boxed{\udfff}",
        "\x00",
        "<answer>\x00</answer>",
        '<tool name="python">print("\ud800")</tool>',
        '<tool name="python">\x00</tool>',
        '<tool name="calc\x00ulator">1</tool>',
        "<answer>1\x00</answer>",
        # 1 MB strings
        "a" * MB,
        "<answer>" + "x" * MB + "</answer>",
        "up " * (MB // 3),
        '<tool name="python">' + "#" * MB + "</tool>",
        # mixed, unclosed, nested tags
        "<answer><tool name='calculator'>1</answer></tool>",
        '<tool name="python"><answer>1</answer>',
        "<answer><answer>1</answer></answer>",
        "\\boxed{\\boxed{1}",
        "<tool name=''></tool>",
        '<tool name="' + "x" * 1000 + '">1</tool>',
        "<tool>",
        "</answer>",
        "<answer>",
        "\\boxed{}",
        '<tool name="unknown_tool">1</tool>',
        "<ANSWER>1</ANSWER>",
        "<answer >1</answer >",
        # puzzle / ARC answer forms with garbage
        "<answer>up down</answer>",
        "\\boxed{[[1,2],[3]]}",
        "[[" + "1," * 10_000 + "1]]",
        "[[1e400]]",
        "[[-1, 10, 99999999999999999999999]]",
        "[[true, null]]",
        "[[]]",
        "\n".join(["0 " * 100] * 100),
        "toggle 0 0",
        "toggle 99999999999999999999 1",
        "1 1 99",
        "clear 999 999",
        "move -3",
        "move " + "9" * 5000,
        "```\n1 2\n3\n```",
        "<answer>\n" + "1" * 81 + "\n</answer>",
        "\\boxed{" + "1" * 81 + "}",
        # code answers that reach the sandbox (fast failures, no timeouts)
        "<answer>def f(: pass</answer>",
        "<answer>\n    return None\n</answer>",
        "<answer>import os\nos._exit(0)</answer>",
        "<answer>print('x' * 10**7)</answer>",
        "<answer>raise SystemExit(3)</answer>",
        "<answer>\n    return '\ud800'\n</answer>",
        '<tool name="python">import sys; sys.exit(5)</tool>',
        '<tool name="python">print("REPORT" * 100000)</tool>',
        # not strings at all
        None,
        0,
        -1,
        1.5,
        float("nan"),
        b"<answer>1</answer>",
        bytearray(b"x"),
        ["<answer>1</answer>"],
        ("a",),
        {"name": "calculator"},
        object(),
        np.array([1, 2]),
        np.int64(3),
        True,
    ]


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.35:
        return rng.choice(
            [
                None,
                True,
                0,
                -1,
                10**30,
                1.5,
                float("inf"),
                "",
                "x",
                "\ud800",
                "\x00",
                "9" * 200,
                "<answer>1</answer>",
                '{"expression": "1+1"}',
            ]
        )
    if roll < 0.55:
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    keys = rng.sample(_KEYS, rng.randint(1, 4))
    out: dict[str, Any] = {k: _random_json(rng, depth + 1) for k in keys}
    if rng.random() < 0.5:
        out["name"] = rng.choice(_NAMES)
    return out


def _dump(value: Any) -> str:
    return json.dumps(value, allow_nan=True, default=str)


def _random_text_action(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:  # a JSON shape, maybe inside prose
        return rng.choice(["", "calling: ", "<answer>1</answer>"]) + _dump(_random_json(rng))
    if kind == 1:  # an OpenAI call with random parts
        call = {
            "type": rng.choice(["function", 7, None]),
            "function": {"name": rng.choice(_NAMES), "arguments": _random_json(rng)},
        }
        if rng.random() < 0.5:
            call["function"]["arguments"] = _dump(call["function"]["arguments"])
        return _dump({"tool_calls": [call]} if rng.random() < 0.5 else call)
    if kind == 2:  # grammar soup
        alphabet = "<>/{}[]\"'\\=:,. \n0123456789-updownleftrightboxedtolnamswr\x00\ud800\u2191"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
    if kind == 3:  # tags around random payloads
        payload = rng.choice(
            [
                "",
                "1",
                "9" * rng.randint(1, 6000),
                "up",
                "[[1,2],[3,4]]",
                "\\frac{1}{0}",
                "1 2 3",
                "(" * 500,
                "\ud800",
                "\x00" * 10,
            ]
        )
        wrap = rng.choice(
            [
                "<answer>{}</answer>",
                "\\boxed{{{}}}",
                '<tool name="calculator">{}</tool>',
                '<tool name="python">{}</tool>',
                "<answer>{}",
                "{}</answer>",
                "{}",
            ]
        )
        return wrap.format(payload)
    if kind == 4:  # numbers and grids
        side = rng.randint(1, 40)
        return "\n".join(
            " ".join(str(rng.randint(-(10**6), 10**6)) for _ in range(side)) for _ in range(side)
        )
    return "".join(chr(rng.randint(0, 0x2FFFF)) for _ in range(rng.randint(1, 200)))


def hostile_text_actions(env_id: str, count: int) -> list[Any]:
    """The fixed attacks, then seeded random ones, ``count`` in all (at least the fixed)."""
    rng = random.Random(zlib.crc32(env_id.encode()))
    fixed = _fixed_text_actions()
    return fixed + [_random_text_action(rng) for _ in range(max(0, count - len(fixed)))]


def hostile_native_actions(env_id: str, count: int) -> list[Any]:
    """Dicts and JSON strings for ``action_format="native"`` (plus non-JSON garbage)."""
    rng = random.Random(zlib.crc32(env_id.encode()) + 1)
    cyclic: dict[str, Any] = {"name": "calculator"}
    cyclic["arguments"] = cyclic
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(50_000):
        node["a"] = {}
        node = node["a"]
    fixed: list[Any] = [
        cyclic,
        {"name": "submit_answer", "arguments": deep},
        {"type": "function", "function": "x"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "type": "function",
                    "function": {"name": "submit_answer", "arguments": '{"answer": "\\ud800"}'},
                }
            ],
        },
        {"name": "submit_answer", "arguments": {"answer": "9" * MB}},
        {"name": "move", "arguments": {"move": 10**100}},
        {"name": "calculator", "arguments": {"expression": "comb(10**9,5*10**8)"}},
        {"tool_calls": [{"function": {"name": "python", "arguments": {"code": "\ud800"}}}]},
        {1: 2},
        {"name": object()},
        [],
        [{"name": "submit_answer", "arguments": {"answer": "1"}}],
        "<answer>1</answer>",
        "a" * MB,
        None,
        3,
    ]
    out: list[Any] = list(fixed)
    while len(out) < count:
        value = _random_json(rng)
        out.append(value if rng.random() < 0.5 else _dump(value))
    return out


def hostile_discrete_actions(env_id: str, n: int, count: int) -> list[Any]:
    """Out-of-range, wrong-type and odd-dtype actions for ``Discrete(n)``, then seeded ones."""
    fixed = [
        -1,
        n,
        n + 1,
        10**100,
        -(10**100),
        1.5,
        float("nan"),
        float("inf"),
        "0",
        "up",
        None,
        True,
        False,
        np.int64(0),
        np.int64(-5),
        np.uint8(255),
        np.array([0]),
        np.array(0),
        np.float32(0.5),
        [0],
        (0,),
        {"a": 0},
        b"\x00",
        object(),
        2**63,
        complex(1, 1),
        "\ud800",
        "9" * 5000,
        np.array([[1, 2]]),
        np.int64(n - 1),
    ]
    rng = random.Random(zlib.crc32(env_id.encode()) + 2)
    makers = [
        lambda: rng.randint(-(2**70), 2**70),
        lambda: rng.randint(-2, n + 2),
        lambda: rng.choice([np.int8, np.int32, np.int64, np.uint64, np.float16, np.float64])(
            rng.randint(0, 120)
        ),
        lambda: np.array([rng.randint(0, n)] * rng.randint(0, 3)),
        lambda: rng.uniform(-1e300, 1e300),
        lambda: str(rng.randint(0, n)),
        lambda: _random_json(rng),
    ]
    return fixed + [rng.choice(makers)() for _ in range(max(0, count - len(fixed)))]


# -- the checks -----------------------------------------------------------------------------
def reward_bounds(env: gym.Env) -> tuple[float, float]:
    """The least and most one step can pay under the env's own reward spec."""
    spec = env.unwrapped.config.reward
    values = spec.model_dump()
    most = values.get("correct", 1.0) + max(0.0, values.get("tool_success", 0.0))
    if values.get("shaping"):
        most += values.get("shaping_weight", 0.0) * 1e6
    penalties = [
        values.get(k, 0.0) for k in ("format_error", "illegal_move", "tool_error", "incorrect")
    ]
    least = min(0.0, *penalties) + values.get("per_step", 0.0)
    if values.get("shaping"):
        least -= values.get("shaping_weight", 0.0) * 1e6
    return least - 1e-9, most + 1e-9


def run_actions(env: gym.Env, actions: list[Any], seed: int) -> dict[str, float]:
    """Step every action (resetting when an episode ends); assert the contract each step."""
    least, most = reward_bounds(env)
    env.reset(seed=seed)
    slowest, steps = 0.0, 0
    for i, action in enumerate(actions):
        label = _label(action)
        start = time.perf_counter()
        final = env.unwrapped.is_final(action)
        obs, reward, terminated, truncated, info = env.step(action)
        took = time.perf_counter() - start
        slowest, steps = max(slowest, took), steps + 1
        assert isinstance(final, bool), label
        assert took < STEP_BOUND_S, f"{took:.1f} s on {label}"
        assert isinstance(reward, float) and math.isfinite(reward), (reward, label)
        assert least <= reward <= most, f"reward {reward} outside [{least}, {most}] on {label}"
        assert env.observation_space.contains(obs), f"observation outside the space on {label}"
        assert isinstance(info.get("is_success"), bool), label
        if terminated or truncated:
            env.reset(seed=seed + i + 1)
    return {"steps": steps, "slowest_s": slowest}


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 80


def _label(action: Any) -> str:
    try:
        return _REPR.repr(action)[:160]
    except Exception:  # noqa: BLE001
        return f"<{type(action).__name__}>"


def _make(env_id: str, **kwargs: Any) -> gym.Env:
    return gym.make(env_id, **kwargs)


def _is_text(env: gym.Env) -> bool:
    return not isinstance(env.action_space, spaces.Discrete)


# per id: tag-mode (or discrete) actions, plus native tool calls for text-facing ids; every
# id gets at least 2,000 (the hand-written attacks are part of the tag-mode list)
TEXT_ACTIONS = 1_700
NATIVE_ACTIONS = 300
DISCRETE_ACTIONS = 2_000
_COUNTED: dict[str, int] = {}


@pytest.fixture(autouse=True)
def _watchdog():
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.mark.parametrize("env_id", SWEEP_IDS)
def test_hostile_actions_never_raise_or_overpay(env_id):
    env = _make(env_id)
    try:
        if _is_text(env):
            actions = hostile_text_actions(env_id, TEXT_ACTIONS)
        else:
            actions = hostile_discrete_actions(env_id, int(env.action_space.n), DISCRETE_ACTIONS)
        stats = run_actions(env, actions, seed=zlib.crc32(env_id.encode()) % 1000)
    finally:
        env.close()
    _COUNTED[env_id] = _COUNTED.get(env_id, 0) + stats["steps"]


@pytest.mark.parametrize("env_id", SWEEP_IDS)
def test_hostile_native_tool_calls(env_id):
    probe = _make(env_id)
    text = _is_text(probe)
    probe.close()
    if not text:
        pytest.skip("discrete mode has no tool calls")
    env = _make(env_id, action_format="native")
    try:
        stats = run_actions(env, hostile_native_actions(env_id, NATIVE_ACTIONS), seed=1)
    finally:
        env.close()
    _COUNTED[env_id + ":native"] = stats["steps"]


def test_every_id_got_at_least_2000_actions():
    """Counted from the sweeps above (run the whole file)."""
    if not all(eid in _COUNTED for eid in ENV_IDS):
        pytest.skip("run with the sweeps (the whole file) to count")
    per_id = {eid: _COUNTED[eid] + _COUNTED.get(eid + ":native", 0) for eid in ENV_IDS}
    assert min(per_id.values()) >= 2000, per_id


# -- hypothesis: free-form structure on two quick ids --------------------------------------
_soup = st.text(
    alphabet=st.sampled_from(list("<>/{}[]\"'\\=:, \n0123456789updownboxedtolnamswr\x00\ud800")),
    max_size=120,
)
_json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(_KEYS), c, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def quick_envs():
    envs = {
        eid: _make(eid)
        for eid in ("reasongym/Arithmetic-v0", "reasongym/Sudoku-v0", "reasongym/ARC-v0")
    }
    yield envs
    for env in envs.values():
        env.close()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(_soup, _json_like.map(_dump), _json_like, st.text(max_size=200)))
def test_generated_actions_on_quick_ids(quick_envs, action):
    for env in quick_envs.values():
        run_actions(env, [action], seed=0)
