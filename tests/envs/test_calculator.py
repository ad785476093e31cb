from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reasongym.envs.tools.calculator import Calculator

calc = Calculator()


@pytest.mark.parametrize(
    ("expr", "out"),
    [
        ("37*41", "1517"),
        ("2^10", "1024"),
        ("1/3", "1/3 = 0.333333333333"),
        ("6/3", "2"),
        ("sqrt(16)", "4"),
        ("factorial(5)", "120"),
        ("gcd(12, 18)", "6"),
        ("1,000 * 3", "3000"),
        ("-(2 - 5) * 4", "12"),
        ("10 % 4", "2"),
        ("2 ** -1", "1/2 = 0.5"),
    ],
)
def test_values(expr, out):
    result = calc(expr)
    assert result.ok and result.output == out


@pytest.mark.parametrize(
    ("expr", "phrase"),
    [
        ("__import__('os').system('ls')", "unknown function"),
        ("open('/etc/passwd')", "unknown function"),
        ("9**9**9**9", "too large"),
        ("factorial(100000)", "0 to 1000"),
        ("1/0", "division by zero"),
        ("x + 1", "unknown name"),
        ("", "empty"),
        ("(" * 400 + "1" + ")" * 400, "expression"),
        ("[1, 2]", "unsupported syntax"),
    ],
)
def test_refusals_are_clear(expr, phrase):
    result = calc(expr)
    assert not result.ok and result.output.startswith("Error:") and phrase in result.output


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_never_raises(text):
    assert isinstance(calc(text).output, str)
