"""The calculator's evaluator: exact arithmetic on an AST whitelist, never Python ``eval``.

Every operation's cost is bounded *before* it runs, so no expression can make it hang or
exhaust memory:

* exact values (integers, fractions) never exceed :data:`MAX_BITS` bits in numerator or
  denominator; ``**``, ``factorial``, ``comb``, ``perm`` and ``lcm`` estimate the size of
  their result from their arguments (logarithms, no big-number work) and refuse what would
  be too big; ``round`` takes at most :data:`MAX_ROUND_DIGITS` digits;
* floats must stay finite (overflow, ``inf`` and ``nan`` are refused), complex likewise;
* expressions are at most :data:`MAX_CHARS` characters and :data:`MAX_NODES` AST nodes, and
  evaluation checks a wall-clock deadline between operations.

Anything refused raises :class:`CalculatorError` with the reason for the agent. The module
uses the standard library only, so :mod:`reasongym.envs.tools.calculator` can run it as a
helper process (its hard wall-clock backstop): ``python arithmetic.py`` reads one JSON
request per line (``{"expression": ..., "budget_s": ...}``) and answers
``{"ok": bool, "output": str}``.
"""

from __future__ import annotations

import ast
import cmath
import decimal
import json
import math
import operator
import re
import sys
import time
from fractions import Fraction

MAX_CHARS = 500
MAX_NODES = 300
MAX_BITS = 4096  # exact numbers above this are refused (2**4096 has 1234 digits)
MAX_ROUND_DIGITS = 100
DEFAULT_BUDGET_S = 1.0

Number = int | Fraction | float | complex

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_THOUSANDS = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?![\d,])")
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
_LOG2_E = math.log2(math.e)
TOO_LARGE = "the result is too large"


class CalculatorError(ValueError):
    """An expression the calculator refuses, with the reason for the agent."""


# -- size estimates (logarithms only: no big-number work) -----------------------------------
def _bits(x: Fraction | int) -> int:
    x = Fraction(x)
    return max(x.numerator.bit_length(), x.denominator.bit_length())


def _log2_factorial(n: int) -> float:
    """log2(n!) (n < 2**53), from lgamma: accurate to far better than a bit here."""
    return math.lgamma(n + 1) / math.log(2)


def _comb_bits_lower(n: int, m: int) -> float:
    """A lower bound of log2(comb(n, m)) for 0 < m <= n/2: (n/m)**m <= comb(n, m)."""
    return m * (math.log2(n) - math.log2(m))


def _as_int(x: Number, fname: str) -> int:
    if isinstance(x, Fraction) and x.denominator == 1:
        return int(x)
    if isinstance(x, float) and x.is_integer():
        return int(x)
    if isinstance(x, int) and not isinstance(x, bool):
        return x
    raise CalculatorError(f"{fname} takes integers")


def _factorial(x: Number) -> int:
    n = _as_int(x, "factorial")
    if not 0 <= n <= 1000:
        raise CalculatorError("factorial takes an integer from 0 to 1000")
    if _log2_factorial(n) > MAX_BITS:
        raise CalculatorError(f"{TOO_LARGE} (factorial({n}) has more than {MAX_BITS} bits)")
    return math.factorial(n)


def _n_k(n_: Number, k_: Number, fname: str) -> tuple[int, int]:
    n, k = _as_int(n_, fname), _as_int(k_, fname)
    if n < 0 or k < 0:
        raise CalculatorError(f"{fname} takes non-negative integers")
    return n, k


def _comb(n_: Number, k_: Number) -> int:
    n, k = _n_k(n_, k_, "comb")
    if k > n:
        return 0
    m = min(k, n - k)
    if m and _comb_bits_lower(n, m) > MAX_BITS:
        raise CalculatorError(f"{TOO_LARGE} (comb has more than {MAX_BITS} bits)")
    return math.comb(n, k)  # here m <= MAX_BITS and the result < 2**(3 * MAX_BITS): fast


def _perm(n_: Number, k_: Number) -> int:
    n, k = _n_k(n_, k_, "perm")
    if k > n:
        return 0
    if k:
        m = min(k, n - k)
        # perm(n, k) = comb(n, k) * k!, and k! >= 2**(k - 1)
        lower = (_comb_bits_lower(n, m) if m else 0.0) + (k - 1)
        if lower > MAX_BITS:
            raise CalculatorError(f"{TOO_LARGE} (perm has more than {MAX_BITS} bits)")
    return math.perm(n, k)


def _lcm(*args: Number) -> int:
    acc = 1
    for x in args:
        acc = math.lcm(acc, _as_int(x, "lcm"))  # both sides <= MAX_BITS bits: fast
        if acc.bit_length() > MAX_BITS:
            raise CalculatorError(TOO_LARGE)
    return acc


def _round(x: Number, n: Number = 0) -> Number:
    digits = _as_int(n, "round")
    if abs(digits) > MAX_ROUND_DIGITS:
        raise CalculatorError(f"round takes at most {MAX_ROUND_DIGITS} digits")
    if isinstance(x, complex):
        raise CalculatorError("round takes a real number")
    return round(Fraction(x), digits)


def _real(fn):
    def wrapped(*args: Number) -> float:
        return fn(*(_to_float(a) for a in args))

    return wrapped


def _to_float(x: Number) -> float:
    if isinstance(x, complex):
        raise CalculatorError("this function takes real numbers")
    try:
        return float(x)
    except OverflowError:
        raise CalculatorError("a number is too large for floating point") from None


def _sqrt(x: Number) -> Number:
    if isinstance(x, (int, Fraction)) and x >= 0:
        num, den = Fraction(x).numerator, Fraction(x).denominator
        rn, rd = math.isqrt(num), math.isqrt(den)
        if rn * rn == num and rd * rd == den:
            return Fraction(rn, rd)
    if isinstance(x, complex):
        return cmath.sqrt(x)
    value = _to_float(x)
    return complex(0.0, math.sqrt(-value)) if value < 0 else math.sqrt(value)


def _gcd(*args: Number) -> int:
    return math.gcd(*(_as_int(x, "gcd") for x in args))


_FUNCTIONS = {
    "sqrt": _sqrt,
    "abs": abs,
    "round": _round,
    "floor": lambda x: math.floor(x if isinstance(x, Fraction) else _to_float(x)),
    "ceil": lambda x: math.ceil(x if isinstance(x, Fraction) else _to_float(x)),
    "exp": _real(math.exp),
    "ln": _real(math.log),
    "log": _real(lambda x, b=10.0: math.log(x, b)),
    "log2": _real(math.log2),
    "log10": _real(math.log10),
    "sin": _real(math.sin),
    "cos": _real(math.cos),
    "tan": _real(math.tan),
    "asin": _real(math.asin),
    "acos": _real(math.acos),
    "atan": _real(math.atan),
    "factorial": _factorial,
    "gcd": _gcd,
    "lcm": _lcm,
    "comb": _comb,
    "perm": _perm,
    "min": min,
    "max": max,
}


def _check_size(x: Number) -> Number:
    if isinstance(x, bool):
        raise CalculatorError("comparisons are not supported")
    if isinstance(x, (int, Fraction)):
        if _bits(x) > MAX_BITS:
            raise CalculatorError(TOO_LARGE)
        x = Fraction(x)
        return x
    if isinstance(x, float):
        if math.isnan(x):
            raise CalculatorError("the result is not a number")
        if math.isinf(x):
            raise CalculatorError(f"{TOO_LARGE} for floating point")
        return x
    if isinstance(x, complex):
        if not (math.isfinite(x.real) and math.isfinite(x.imag)):
            raise CalculatorError(f"{TOO_LARGE} (or not a number)")
        return x
    raise CalculatorError(f"unsupported value of type {type(x).__name__}")


def _power(base: Number, exp: Number) -> Number:
    if isinstance(exp, Fraction) and exp.denominator == 1 and isinstance(base, Fraction):
        e = int(exp)
        if base == 0 and e < 0:
            raise CalculatorError("division by zero")
        if base in (0, 1) or e == 0:
            return base**e if base else Fraction(0 if e else 1)
        if base == -1:
            return Fraction(-1 if e % 2 else 1)
        # |base| and 1/|base| are >= 2 or hold a factor >= 2: the result has >= |e| bits
        size = math.log2(max(abs(base.numerator), base.denominator))
        if abs(e) > MAX_BITS or size * abs(e) > MAX_BITS + 1:
            raise CalculatorError(TOO_LARGE)
        return base**e
    if isinstance(base, complex) or isinstance(exp, complex):
        b = base if isinstance(base, complex) else complex(_to_float(base))
        x = exp if isinstance(exp, complex) else complex(_to_float(exp))
        if b == 0 and (x.real < 0 or x.imag != 0):
            raise CalculatorError("zero cannot be raised to a negative or complex power")
        return b**x
    b, x = _to_float(base), _to_float(exp)
    if b == 0 and x < 0:
        raise CalculatorError("division by zero")
    return b**x  # a negative base and a fractional exponent give a complex result


class _Evaluator(ast.NodeVisitor):
    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def visit(self, node: ast.AST) -> Number:
        if time.monotonic() > self.deadline:
            raise CalculatorError("the calculation took too long")
        return super().visit(node)

    def visit_Expression(self, node: ast.Expression) -> Number:
        return self.visit(node.body)

    def visit_Constant(self, node: ast.Constant) -> Number:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float, complex)):
            raise CalculatorError(f"unsupported value {str(value)[:40]!r}")
        return _check_size(Fraction(value) if isinstance(value, int) else value)

    def visit_Name(self, node: ast.Name) -> Number:
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise CalculatorError(f"unknown name {node.id[:40]!r}")

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Number:
        value = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return -value
        if isinstance(node.op, ast.UAdd):
            return value
        raise CalculatorError("unsupported operator")

    def visit_BinOp(self, node: ast.BinOp) -> Number:
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(node.op, ast.Pow):
            return _check_size(_guard(lambda: _power(left, right)))
        op = _BINARY.get(type(node.op))
        if op is None:
            raise CalculatorError("unsupported operator (use + - * / // % ** and parentheses)")
        if isinstance(node.op, (ast.FloorDiv, ast.Mod)) and (
            isinstance(left, complex) or isinstance(right, complex)
        ):
            raise CalculatorError("// and % take real numbers")
        if not (isinstance(left, Fraction) and isinstance(right, Fraction)):
            if isinstance(left, Fraction):
                left = (
                    _to_float(left) if not isinstance(right, complex) else complex(_to_float(left))
                )
            if isinstance(right, Fraction):
                right = (
                    _to_float(right) if not isinstance(left, complex) else complex(_to_float(right))
                )
        return _check_size(_guard(lambda: op(left, right)))

    def visit_Call(self, node: ast.Call) -> Number:
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            names = ", ".join(sorted(_FUNCTIONS))
            raise CalculatorError(f"unknown function; available: {names}")
        if node.keywords:
            raise CalculatorError("keyword arguments are not supported")
        name = node.func.id
        args = [self.visit(a) for a in node.args]
        if name in ("min", "max") and any(isinstance(a, complex) for a in args):
            raise CalculatorError(f"{name} takes real numbers")
        return _check_size(_guard(lambda: _FUNCTIONS[name](*args), name))

    def generic_visit(self, node: ast.AST) -> Number:
        raise CalculatorError(f"unsupported syntax: {type(node).__name__}")


def _guard(compute, name: str = ""):
    """Run one (size-checked) operation, turning arithmetic failures into refusals."""
    prefix = f"{name}: " if name else ""
    try:
        return compute()
    except CalculatorError:
        raise
    except ZeroDivisionError:
        raise CalculatorError(f"{prefix}division by zero") from None
    except OverflowError:
        raise CalculatorError(f"{prefix}{TOO_LARGE}") from None
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise CalculatorError(f"{prefix}{str(exc)[:100]}") from None


def _approx(value: Fraction) -> str:
    """12 significant digits of an exact fraction of any size (no float overflow)."""
    context = decimal.Context(prec=12, Emax=10**6, Emin=-(10**6))
    quotient = context.divide(decimal.Decimal(value.numerator), decimal.Decimal(value.denominator))
    return format(quotient, ".12g")


def format_number(value: Number) -> str:
    """How the calculator writes a result: exact integers and fractions (with 12 digits)."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        return f"{value} = {_approx(value)}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, complex):
        return f"{value.real:.12g}{value.imag:+.12g}i"
    return f"{value:.12g}"


def evaluate(expression: str, budget_s: float = DEFAULT_BUDGET_S) -> Number:
    """Evaluate an arithmetic expression, exactly where possible.

    Args:
        expression: e.g. ``"(37*41 + 3)/4"``; ``^`` means ``**``.
        budget_s: wall-clock seconds after which evaluation stops between operations.

    Raises:
        CalculatorError: for anything it refuses, with the reason.
    """
    if type(expression) is not str:
        raise CalculatorError("the expression must be a string")
    if len(expression) > MAX_CHARS * 4:
        raise CalculatorError(f"expression longer than {MAX_CHARS} characters")
    text = expression.strip().replace("^", "**").replace("×", "*").replace("÷", "/")
    text = text.replace("−", "-")
    if "(" not in text:  # "1,000 * 3": commas can only be thousands separators here
        text = _THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), text)
    if not text:
        raise CalculatorError("empty expression")
    if len(text) > MAX_CHARS:
        raise CalculatorError(f"expression longer than {MAX_CHARS} characters")
    if not text.isascii() or "\x00" in text:
        raise CalculatorError("use ASCII digits, operators, function names and parentheses")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise CalculatorError("not a valid arithmetic expression") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise CalculatorError("expression too long")
    try:
        value = _Evaluator(time.monotonic() + budget_s).visit(tree)
    except RecursionError:
        raise CalculatorError("expression nested too deeply") from None
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


def calculate(expression: str, budget_s: float = DEFAULT_BUDGET_S) -> tuple[bool, str]:
    """``(ok, text)``: the formatted result, or ``"Error: <reason>"``. Never raises."""
    try:
        return True, format_number(evaluate(expression, budget_s))
    except CalculatorError as exc:
        return False, f"Error: {exc}"
    except Exception as exc:  # noqa: BLE001 - a bug here must still not crash an env step
        return False, f"Error: the calculator could not evaluate this ({type(exc).__name__})"


def _serve() -> None:
    """The helper-process loop: one JSON request per stdin line, one JSON reply per line."""
    for line in sys.stdin:
        try:
            request = json.loads(line)
            ok, output = calculate(str(request["expression"]), float(request.get("budget_s", 1.0)))
        except Exception as exc:  # noqa: BLE001
            ok, output = False, f"Error: bad request ({type(exc).__name__})"
        sys.stdout.write(json.dumps({"ok": ok, "output": output}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
