"""Bounded evaluation of parsed expressions: exact rationals first, then complex floats.

Every operation here costs bounded time, whatever the input, which is what makes the fast
path safe to run in any thread:

- exact integer powers, roots, factorials and binomials are computed only while the result
  stays under ``MAX_BITS`` bits; beyond that :class:`TooLarge` is raised, never a long
  big-integer computation (``9^{9^{9^9}}`` stops at the first oversize power);
- float arithmetic is constant-time; overflow, division by zero and domain errors raise
  :class:`Undefined` for that evaluation point.

Numeric evaluation returns ``(value, error)``: the float value and a *forward error bound*,
an upper bound on how far the computed value can be from the true value of the expression
(first-order rounding-error analysis: every literal, constant and operation adds its
rounding error, and each operation propagates its inputs' errors through its derivative or
Lipschitz bound). The bound is what makes numeric comparison sound: ``x + 10^{300} -
10^{300}`` evaluates to a value with an error bound near ``10^{284}``, and ``\\sin(10^{300})``
to one with error bound 2, so neither can be taken as evidence of equality with anything
(the comparison in :mod:`.math_answer` then falls back to exact/symbolic work or says
not equal). Where no bound can be given (a divisor that may be zero, a discontinuity
within the error, a function outside its first-order regime) the error is ``inf``.
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


# -- numeric, with a forward error bound ----------------------------------------------------

# Unit roundoff of binary64 is 2^-53; EPS is twice that, a margin for libm's last-bit error.
EPS = 2.0**-52
_INF = math.inf
_E = complex(math.e)
_PI = complex(math.pi)
_EXACT_INT_FLOAT = 2**53

Approx = tuple[complex, float]  # (value, absolute error bound); the bound may be inf


def _finite(value: complex) -> complex:
    if not (math.isfinite(value.real) and math.isfinite(value.imag)):
        raise Undefined("not finite")
    return value


def _bound(error: float) -> float:
    """Errors are non-negative; NaN (inf * 0 and the like) means no bound."""
    return error if error == error else _INF  # noqa: PLR0124 - NaN check


def _is_real(value: complex) -> bool:
    return value.imag == 0.0


def _is_integer(value: complex) -> bool:
    return value.imag == 0.0 and float(value.real).is_integer()


def _number(value: Fraction) -> Approx:
    try:
        approx = complex(float(value))
    except OverflowError as exc:
        raise Undefined("number too large for a float") from exc
    _finite(approx)
    if value.denominator == 1 and abs(value.numerator) <= _EXACT_INT_FLOAT:
        return approx, 0.0
    return approx, abs(approx) * EPS + 1e-320


def _add(terms: list[Approx]) -> Approx:
    total = 0j
    error = 0.0
    size = 0.0
    for value, err in terms:
        total += value
        error += err
        size += abs(value)
    # Rounding of n - 1 additions is at most (n - 1) u * sum |x_i|: cancellation shows here.
    return _finite(total), _bound(error + len(terms) * EPS * size)


def _mul(a: Approx, b: Approx) -> Approx:
    (x, ex), (y, ey) = a, b
    value = _finite(x * y)
    return value, _bound(abs(x) * ey + abs(y) * ex + ex * ey + 2 * EPS * abs(value))


def approx_div(num: Approx, den: Approx) -> Approx:
    (x, ex), (y, ey) = num, den
    if abs(y) <= 1e-300:
        raise Undefined("division by zero")
    value = _finite(x / y)
    margin = abs(y) - ey
    if margin <= 0.5 * abs(y):  # the divisor is not known to within a factor of two
        return value, _INF
    return value, _bound((ex + abs(value) * ey) / margin + 2 * EPS * abs(value))


def _pow_value(base: complex, exp: complex) -> complex:
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


def _pow(base: Approx, exp: Approx, exp_node: Node) -> Approx:
    (b, eb), (x, ex) = base, exp
    value = _finite(_real_odd_root_pow(b, exp_node) or _pow_value(b, x))
    if b == 0:
        return value, (0.0 if eb == 0 else _INF)
    if eb >= 0.5 * abs(b):
        return value, _INF
    # d(b^x) = x b^(x-1) db + b^x log(b) dx; pow itself is accurate to ~|x log b| ulps.
    log_b = abs(cmath.log(b))
    relative = abs(x) * eb / (abs(b) - eb) + log_b * ex + EPS * (4 + abs(x) * log_b)
    if relative > 0.5:
        return value, _INF
    return value, _bound(abs(value) * 2 * relative)


def _root(x: Approx, index: complex) -> Approx:
    v, e = x
    if _is_real(v) and _is_integer(index):
        k = int(index.real)
        if k == 2:
            value = complex(math.sqrt(v.real)) if v.real >= 0 else complex(0, math.sqrt(-v.real))
        elif k % 2 == 1 and v.real < 0:  # real odd root: \sqrt[3]{-8} = -2
            value = complex(-math.pow(-v.real, 1.0 / k))
        elif k == 0:
            raise Undefined("zeroth root")
        else:
            value = _pow_value(v, complex(1 / k))
    else:
        if index == 0:
            raise Undefined("zeroth root")
        value = _pow_value(v, 1 / index)
    value = _finite(value)
    if e == 0:
        return value, 2 * EPS * abs(value)
    if v == 0 or e >= 0.5 * abs(v):
        # |root(v + d) - root(v)| <= root(|d|) * 2 for the real roots near zero.
        if abs(index) >= 1 and _is_real(index):
            return value, _bound(2 * math.pow(e, 1 / abs(index.real)) + 2 * EPS * abs(value))
        return value, _INF
    return value, _bound(abs(value) * 2 * (e / abs(v)) / abs(index) + 2 * EPS * abs(value))


def _lipschitz(value: complex, error: float, slope: float) -> Approx:
    return value, _bound(error * slope + 2 * EPS * (abs(value) + 1e-300))


def _unary(name: str, x: Approx) -> Approx:
    v, e = x
    try:
        if name in _RECIPROCAL:
            return approx_div((1 + 0j, 0.0), _unary(_RECIPROCAL[name], x))
        if name in _ARC_RECIPROCAL:
            return _unary(_ARC_RECIPROCAL[name], approx_div((1 + 0j, 0.0), x))
        func = _COMPLEX_FUNCS.get(name)
        if func is None:
            raise Undefined(f"unknown function {name}")
        value = func(v)
        if _is_real(v) and abs(value.imag) < 1e-300:
            value = complex(value.real, 0.0)
        value = _finite(value)
    except (OverflowError, ValueError, ZeroDivisionError) as exc:
        raise Undefined(str(exc)) from exc
    if e == 0:
        return value, 2 * EPS * (abs(value) + 1e-300)
    if e > 0.1:  # outside the first-order regime for every function below
        if name in ("sin", "cos") and _is_real(v):
            return value, 2.0  # bounded functions: the value is known to within their range
        return value, _INF
    im = abs(v.imag) + e
    if name in ("sin", "cos"):
        slope = math.cosh(im)
    elif name in ("exp", "sinh", "cosh"):
        slope = (abs(value) + 1) * math.exp(e) if name != "exp" else abs(value) * math.exp(e)
    elif name in ("tan", "tanh"):
        slope = 1 + (abs(value) + 1) ** 2
        if slope * e > 0.1:
            return value, _INF
    elif name in ("arcsin", "arccos"):
        gap = abs(1 - v * v) - 2 * e * (abs(v) + e)
        if gap <= 0:
            return value, _INF
        slope = 1 / math.sqrt(gap)
    elif name == "arctan":
        gap = abs(1 + v * v) - 2 * e * (abs(v) + e)
        if gap <= 0:
            return value, _INF
        slope = 1 / gap
    else:
        return value, _INF
    return _lipschitz(value, e, 2 * slope)


def _gamma_like(func, args: list[Approx]) -> Approx:
    """A gamma-family value with a first-order error from a finite-difference slope."""
    values = [a[0] for a in args]
    value = _finite(func(*values))
    errors = [a[1] for a in args]
    if not any(errors):
        return value, 8 * EPS * (abs(value) + 1e-300) * (1 + max(abs(x) for x in values))
    total = 0.0
    for k, (x, e) in enumerate(args):
        if e == 0:
            continue
        h = 1e-6 * (1 + abs(x))
        if e > 0.01 * h:
            return value, _INF
        shifted = list(values)
        slopes = []
        for step in (h, -h, 0.5 * h):
            shifted[k] = x + step
            slopes.append(abs(_finite(func(*shifted)) - value) / abs(step))
        total += 4 * max(slopes) * e
    return value, _bound(total + 8 * EPS * abs(value))


def _fact(x: complex) -> complex:
    if not _is_real(x):
        raise Undefined("factorial of a complex number")
    if _is_integer(x) and 0 <= x.real <= 170:
        return complex(math.factorial(int(x.real)))
    return complex(math.gamma(x.real + 1))


def _binom(n: complex, k: complex) -> complex:
    if not (_is_real(n) and _is_real(k)):
        raise Undefined("binomial of complex numbers")
    n_r, k_r = n.real, k.real
    if _is_integer(k) and 0 <= k_r <= 170:
        # The falling factorial n (n-1) ... (n-k+1) / k!: a polynomial in n, signed for any n.
        value = 1.0
        for i in range(int(k_r)):
            value *= (n_r - i) / (i + 1)
        return complex(value)
    sign = 1.0
    for x in (n_r + 1, k_r + 1, n_r - k_r + 1):  # the sign of each gamma factor
        if x <= 0 and x == math.floor(x):
            raise Undefined("binomial at a pole of the gamma function")
        if x < 0 and math.floor(-x) % 2 == 0:
            sign = -sign  # gamma is negative on (-1, 0), (-3, -2), ...
    lg = math.lgamma(n_r + 1) - math.lgamma(k_r + 1) - math.lgamma(n_r - k_r + 1)
    return complex(sign * math.exp(lg))


def _log(x: Approx, base: Approx) -> Approx:
    (v, e), (b, eb) = x, base
    if v == 0 or b == 0 or b == 1:
        raise Undefined("log of zero")
    if _is_real(v) and _is_real(b) and v.real > 0 and b.real > 0:
        num, den = complex(math.log(v.real)), complex(math.log(b.real))
    else:
        num, den = cmath.log(v), cmath.log(b)
    if den == 0:
        raise Undefined("log base one")
    if e >= 0.5 * abs(v) or eb >= 0.5 * abs(b):
        return _finite(num / den), _INF
    log_num = (num, 2 * e / abs(v) + 2 * EPS * (abs(num) + 1))
    log_den = (den, 2 * eb / abs(b) + 2 * EPS * (abs(den) + 1))
    return approx_div(log_num, log_den)


def _floor_ceil(name: str, x: Approx) -> Approx:
    v, e = x
    if not _is_real(v):
        raise Undefined("floor of a complex number")
    value = complex(math.floor(v.real) if name == "floor" else math.ceil(v.real))
    nearest = round(v.real)
    if abs(v.real - nearest) <= e:  # an integer within the error: the result is not known
        return value, _INF
    return value, 0.0


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


def _call(name: str, args: list[Approx]) -> Approx:
    try:
        if name == "sqrt":
            return (
                _root(args[0], args[1][0])
                if args[1][1] == 0
                else (_root(args[0], args[1][0])[0], _INF)
            )
        if name == "log":
            return _log(args[0], args[1])
        if name == "abs":
            v, e = args[0]
            return complex(abs(v)), _bound(e + 2 * EPS * abs(v))
        if name in ("floor", "ceil"):
            return _floor_ceil(name, args[0])
        if name == "fact":
            return _gamma_like(_fact, args[:1])
        if name == "binom":
            return _gamma_like(_binom, args[:2])
        return _unary(name, args[0])
    except (OverflowError, ValueError, ZeroDivisionError) as exc:
        raise Undefined(str(exc)) from exc


def numeric_value(node: Node, env: dict[str, complex]) -> Approx:
    """Evaluate ``node`` with the variables in ``env`` (their values are taken as exact).

    Returns:
        ``(value, error)``: the computed value and an upper bound on ``|value - true value|``
        (``inf`` when no bound can be given). See the module docstring.

    Raises:
        Undefined: the value is not finite or not defined here.
    """
    if isinstance(node, Num):
        return _number(node.value)
    if isinstance(node, Sym):
        return env[node.name], 0.0
    if isinstance(node, Const):
        if node.name == "inf":
            raise Undefined("infinity")
        if node.name == "i":
            return 1j, 0.0
        value = _PI if node.name == "pi" else _E
        return value, abs(value) * EPS
    if isinstance(node, Neg):
        value, err = numeric_value(node.arg, env)
        return -value, err
    if isinstance(node, Add):
        return _add([numeric_value(arg, env) for arg in node.args])
    if isinstance(node, Mul):
        result = numeric_value(node.args[0], env)
        for arg in node.args[1:]:
            result = _mul(result, numeric_value(arg, env))
        return result
    if isinstance(node, Div):
        return approx_div(numeric_value(node.num, env), numeric_value(node.den, env))
    if isinstance(node, Pow):
        return _pow(numeric_value(node.base, env), numeric_value(node.exp, env), node.exp)
    return _call(node.name, [numeric_value(arg, env) for arg in node.args])
