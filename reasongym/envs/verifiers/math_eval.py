"""Bounded evaluation of parsed expressions: exact rationals first, then complex floats.

Every operation here costs bounded time, whatever the input, which is what makes the fast
path safe to run in any thread:

- exact integer powers, roots, factorials and binomials are computed only while the result
  stays under ``MAX_BITS`` bits; beyond that :class:`TooLarge` is raised, never a long
  big-integer computation (``9^{9^{9^9}}`` stops at the first oversize power);
- float arithmetic is constant-time; overflow, division by zero and domain errors raise
  :class:`Undefined` for that evaluation point.

Numeric evaluation also returns a *magnitude*: the same expression evaluated with every
term's absolute value. It bounds the rounding error, so ``(x+1)^{20}`` and its expansion
compare equal even where the expansion cancels catastrophically.
"""

from __future__ import annotations

import cmath
import math
from fractions import Fraction

from reasongym.envs.verifiers.math_expr import (
    Add,
    Call,
    Const,
    Div,
    Mul,
    Neg,
    Node,
    Num,
    Pow,
    Sym,
)

MAX_BITS = 100_000  # ~30,000 decimal digits: microseconds to compute, and plenty for answers
MAX_FACTORIAL = 2_000
MAX_ROOT_INDEX = 64


class TooLarge(Exception):
    """An exact value would exceed the size guard; the answer cannot be decided cheaply."""


class Undefined(Exception):
    """Not defined (or not finite) at this point: 1/0, log 0, overflow, ..."""


def _bits(value: Fraction) -> int:
    return max(value.numerator.bit_length(), value.denominator.bit_length())


def _iroot(n: int, k: int) -> int | None:
    """The exact integer k-th root of ``n >= 0``, or None when ``n`` is not a k-th power."""
    if n < 2:
        return n
    x = 1 << ((n.bit_length() + k - 1) // k)
    while True:
        y = ((k - 1) * x + n // x ** (k - 1)) // k
        if y >= x:
            break
        x = y
    return x if x**k == n else None


def _exact_root(value: Fraction, k: int) -> Fraction | None:
    """Real k-th root of a rational when it is rational (odd k allows negatives)."""
    if k < 1 or k > MAX_ROOT_INDEX or _bits(value) > MAX_BITS:
        return None
    if value < 0:
        if k % 2 == 0:
            return None
        root = _exact_root(-value, k)
        return -root if root is not None else None
    num = _iroot(value.numerator, k)
    den = _iroot(value.denominator, k)
    if num is None or den is None:
        return None
    return Fraction(num, den)


def _exact_pow(base: Fraction, exp: Fraction) -> Fraction | None:
    if exp.denominator == 1:
        power = exp.numerator
        if base in (0, 1) or power == 0:
            if base == 0 and power < 0:
                raise Undefined("0 to a negative power")
            return Fraction(1) if power == 0 else base
        if base == -1:
            return Fraction(-1 if power % 2 else 1)
        if _bits(base) * abs(power) > MAX_BITS:
            raise TooLarge(f"power with exponent {power}")
        result = base ** abs(power)
        return 1 / result if power < 0 else result
    if abs(exp.numerator) * _bits(base) > MAX_BITS:
        raise TooLarge("rational power too large")
    if base < 0 and exp.denominator % 2 == 0:
        return None  # an even root of a negative number is not real
    root = _exact_root(base, exp.denominator)  # odd roots are real: (-8)^{1/3} = -2
    return _exact_pow(root, Fraction(exp.numerator)) if root is not None else None


def exact_value(node: Node) -> Fraction | None:
    """The exact rational value of ``node``, or None when it is not (known to be) rational.

    Raises:
        TooLarge: the value would exceed the size guard.
        Undefined: division by zero and the like.
    """
    if isinstance(node, Num):
        return node.value
    if isinstance(node, (Sym, Const)):
        return None
    if isinstance(node, Neg):
        inner = exact_value(node.arg)
        return -inner if inner is not None else None
    if isinstance(node, Add):
        total = Fraction(0)
        for arg in node.args:
            value = exact_value(arg)
            if value is None:
                return None
            total += value
            if _bits(total) > MAX_BITS:
                raise TooLarge("sum too large")
        return total
    if isinstance(node, Mul):
        product = Fraction(1)
        for arg in node.args:
            value = exact_value(arg)
            if value is None:
                return None
            if _bits(product) + _bits(value) > MAX_BITS:
                raise TooLarge("product too large")
            product *= value
        return product
    if isinstance(node, Div):
        num = exact_value(node.num)
        den = exact_value(node.den)
        if num is None or den is None:
            return None
        if den == 0:
            raise Undefined("division by zero")
        if _bits(num) + _bits(den) > MAX_BITS:
            raise TooLarge("quotient too large")
        return num / den
    if isinstance(node, Pow):
        base = exact_value(node.base)
        if base is None:
            return None
        exp = exact_value(node.exp)
        return _exact_pow(base, exp) if exp is not None else None
    return _exact_call(node)


def _exact_call(node: Call) -> Fraction | None:
    args = [exact_value(arg) for arg in node.args]
    if any(arg is None for arg in args):
        return None
    values: list[Fraction] = [a for a in args if a is not None]
    name = node.name
    if name == "sqrt":
        x, index = values
        if index.denominator != 1:
            return None
        return _exact_root(x, int(index))
    if name == "abs":
        return abs(values[0])
    if name in ("floor", "ceil"):
        x = values[0]
        return Fraction(math.floor(x) if name == "floor" else math.ceil(x))
    if name == "fact":
        x = values[0]
        if x.denominator != 1 or x < 0:
            return None
        if x > MAX_FACTORIAL:
            raise TooLarge("factorial too large")
        return Fraction(math.factorial(int(x)))
    if name == "binom":
        n, k = values
        if n.denominator != 1 or k.denominator != 1:
            return None
        if n > MAX_BITS or abs(k) > MAX_BITS:
            raise TooLarge("binomial too large")
        if n < 0:
            return None
        return Fraction(math.comb(int(n), int(k))) if k >= 0 else Fraction(0)
    if name == "log":
        x, base = values
        if x == 1 and base > 0 and base != 1:
            return Fraction(0)
        return None
    return None


# -- numeric --------------------------------------------------------------------------------

_E = complex(math.e)
_PI = complex(math.pi)


def _finite(value: complex) -> complex:
    if not (math.isfinite(value.real) and math.isfinite(value.imag)):
        raise Undefined("not finite")
    return value


def _is_real(value: complex) -> bool:
    return value.imag == 0.0


def _is_integer(value: complex) -> bool:
    return value.imag == 0.0 and float(value.real).is_integer()


def _pow(base: complex, exp: complex) -> complex:
    try:
        if _is_real(base) and _is_real(exp) and (base.real >= 0 or _is_integer(exp)):
            if base.real == 0 and exp.real < 0:
                raise Undefined("0 to a negative power")
            return complex(math.pow(base.real, exp.real))
        if base == 0:
            if exp.real > 0:
                return 0j
            raise Undefined("0 to a non-positive power")
        return cmath.exp(exp * cmath.log(base))
    except (OverflowError, ValueError, ZeroDivisionError) as exc:
        raise Undefined(str(exc)) from exc


def _real_odd_root_pow(base: complex, exp_node: Node) -> complex | None:
    """``x^{p/q}`` with odd q and real x < 0 is real, as ``\\sqrt[q]{x}^p`` is."""
    if not (_is_real(base) and base.real < 0) or isinstance(exp_node, Num):
        return None
    try:
        exp = exact_value(exp_node)
    except (TooLarge, Undefined):
        return None
    if exp is None or exp.denominator % 2 == 0 or abs(exp) > 1_000:
        return None
    try:
        magnitude = math.pow(-base.real, float(exp))
    except (OverflowError, ValueError, ZeroDivisionError) as exc:
        raise Undefined(str(exc)) from exc
    return complex(-magnitude if exp.numerator % 2 else magnitude)


def _root(x: complex, index: complex) -> complex:
    if _is_real(x) and _is_integer(index):
        k = int(index.real)
        if k == 2:
            return complex(math.sqrt(x.real)) if x.real >= 0 else complex(0, math.sqrt(-x.real))
        if k % 2 == 1 and x.real < 0:  # real odd root: \sqrt[3]{-8} = -2
            return complex(-math.pow(-x.real, 1.0 / k))
    if index == 0:
        raise Undefined("zeroth root")
    return _pow(x, 1 / index)


_COMPLEX_FUNCS = {
    "sin": cmath.sin,
    "cos": cmath.cos,
    "tan": cmath.tan,
    "arcsin": cmath.asin,
    "arccos": cmath.acos,
    "arctan": cmath.atan,
    "sinh": cmath.sinh,
    "cosh": cmath.cosh,
    "tanh": cmath.tanh,
    "exp": cmath.exp,
}
_RECIPROCAL = {"sec": "cos", "csc": "sin", "cot": "tan", "sech": "cosh", "csch": "sinh"}
_RECIPROCAL |= {"coth": "tanh"}
_ARC_RECIPROCAL = {"arcsec": "arccos", "arccsc": "arcsin", "arccot": "arctan"}


def _call(name: str, args: list[complex]) -> complex:
    x = args[0]
    try:
        if name == "sqrt":
            return _root(x, args[1])
        if name == "log":
            base = args[1]
            if x == 0 or base == 0 or base == 1:
                raise Undefined("log of zero")
            if _is_real(x) and _is_real(base) and x.real > 0 and base.real > 0:
                return complex(math.log(x.real) / math.log(base.real))
            return cmath.log(x) / cmath.log(base)
        if name == "abs":
            return complex(abs(x))
        if name in ("floor", "ceil"):
            if not _is_real(x):
                raise Undefined("floor of a complex number")
            return complex(math.floor(x.real) if name == "floor" else math.ceil(x.real))
        if name == "fact":
            if not _is_real(x):
                raise Undefined("factorial of a complex number")
            if _is_integer(x) and 0 <= x.real <= 170:
                return complex(math.factorial(int(x.real)))
            return complex(math.gamma(x.real + 1))
        if name == "binom":
            n, k = x, args[1]
            if not (_is_real(n) and _is_real(k)):
                raise Undefined("binomial of complex numbers")
            lg = (
                math.lgamma(n.real + 1) - math.lgamma(k.real + 1) - math.lgamma(n.real - k.real + 1)
            )
            return complex(math.exp(lg))
        if name in _RECIPROCAL:
            return 1 / _COMPLEX_FUNCS[_RECIPROCAL[name]](x)
        if name in _ARC_RECIPROCAL:
            return _COMPLEX_FUNCS[_ARC_RECIPROCAL[name]](1 / x)
        func = _COMPLEX_FUNCS.get(name)
        if func is None:
            raise Undefined(f"unknown function {name}")
        value = func(x)
        return complex(value.real, 0.0) if _is_real(x) and abs(value.imag) < 1e-300 else value
    except (OverflowError, ValueError, ZeroDivisionError) as exc:
        raise Undefined(str(exc)) from exc


def numeric_value(node: Node, env: dict[str, complex]) -> tuple[complex, float]:
    """Evaluate ``node`` with the variables in ``env``.

    Returns:
        ``(value, magnitude)``: magnitude >= |value| bounds the size of the intermediate terms
        (for the rounding-error tolerance).

    Raises:
        Undefined: the value is not finite or not defined here.
    """
    if isinstance(node, Num):
        try:
            value = complex(float(node.value))
        except OverflowError as exc:
            raise Undefined("number too large for a float") from exc
        return _finite(value), abs(value)
    if isinstance(node, Sym):
        value = env[node.name]
        return value, abs(value)
    if isinstance(node, Const):
        if node.name == "inf":
            raise Undefined("infinity")
        value = {"pi": _PI, "e": _E, "i": 1j}[node.name]
        return value, abs(value)
    if isinstance(node, Neg):
        value, mag = numeric_value(node.arg, env)
        return -value, mag
    if isinstance(node, Add):
        total, mag = 0j, 0.0
        for arg in node.args:
            value, m = numeric_value(arg, env)
            total += value
            mag += m
        return _finite(total), mag
    if isinstance(node, Mul):
        product, mag = 1 + 0j, 1.0
        for arg in node.args:
            value, m = numeric_value(arg, env)
            product *= value
            mag *= m
        if not math.isfinite(mag):
            raise Undefined("overflow")
        return _finite(product), mag
    if isinstance(node, Div):
        num, num_mag = numeric_value(node.num, env)
        den, den_mag = numeric_value(node.den, env)
        if abs(den) <= 1e-300 or abs(den) < 1e-13 * den_mag:
            raise Undefined("division by (nearly) zero")
        value = _finite(num / den)
        return value, max(abs(value), num_mag / abs(den) * (den_mag / abs(den)))
    if isinstance(node, Pow):
        base, base_mag = numeric_value(node.base, env)
        exp, _ = numeric_value(node.exp, env)
        value = _finite(_real_odd_root_pow(base, node.exp) or _pow(base, exp))
        spread = base_mag / abs(base) if abs(base) > 0 else 1.0
        spread = min(spread ** min(abs(exp.real), 64.0), 1e12)
        return value, abs(value) * spread
    values = []
    mag = 0.0
    for arg in node.args:
        value, m = numeric_value(arg, env)
        values.append(value)
        mag = max(mag, m)
    result = _finite(_call(node.name, values))
    return result, max(abs(result), mag)
