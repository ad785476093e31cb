"""A safe calculator: arithmetic on an AST whitelist, never Python ``eval``."""

from __future__ import annotations

import ast
import math
import operator
import re
from fractions import Fraction

from reasongym.envs.tools.base import Tool
from reasongym.envs.types import ToolResult

MAX_CHARS = 500
MAX_NODES = 300
MAX_BITS = 4096  # integers larger than this are refused (2**4096 has 1234 digits)

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


class CalculatorError(ValueError):
    """An expression the calculator refuses, with the reason for the agent."""


def _factorial(x: Number) -> int:
    n = _as_int(x, "factorial")
    if not 0 <= n <= 1000:
        raise CalculatorError("factorial takes an integer from 0 to 1000")
    return math.factorial(n)


def _as_int(x: Number, fname: str) -> int:
    if isinstance(x, Fraction) and x.denominator == 1:
        return int(x)
    if isinstance(x, float) and x.is_integer():
        return int(x)
    if isinstance(x, int):
        return x
    raise CalculatorError(f"{fname} takes integers")


def _real(fn):
    def wrapped(*args: Number) -> float:
        return fn(*(float(a) for a in args))

    return wrapped


def _sqrt(x: Number) -> Number:
    if isinstance(x, (int, Fraction)) and x >= 0:
        num, den = Fraction(x).numerator, Fraction(x).denominator
        rn, rd = math.isqrt(num), math.isqrt(den)
        if rn * rn == num and rd * rd == den:
            return Fraction(rn, rd)
    if isinstance(x, complex) or float(x) < 0:
        return complex(x) ** 0.5
    return math.sqrt(float(x))


_FUNCTIONS = {
    "sqrt": _sqrt,
    "abs": abs,
    "round": lambda x, n=0: round(Fraction(x), _as_int(n, "round")) if not isinstance(x, complex) else x,
    "floor": lambda x: math.floor(x),
    "ceil": lambda x: math.ceil(x),
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
    "gcd": lambda *a: math.gcd(*(_as_int(x, "gcd") for x in a)),
    "lcm": lambda *a: math.lcm(*(_as_int(x, "lcm") for x in a)),
    "comb": lambda n, k: math.comb(_as_int(n, "comb"), _as_int(k, "comb")),
    "perm": lambda n, k: math.perm(_as_int(n, "perm"), _as_int(k, "perm")),
    "min": min,
    "max": max,
}


def _check_size(x: Number) -> Number:
    if isinstance(x, Fraction):
        if x.numerator.bit_length() > MAX_BITS or x.denominator.bit_length() > MAX_BITS:
            raise CalculatorError("the result is too large")
        return x.numerator if x.denominator == 1 else x
    if isinstance(x, int) and x.bit_length() > MAX_BITS:
        raise CalculatorError("the result is too large")
    if isinstance(x, float) and math.isnan(x):
        raise CalculatorError("the result is not a number")
    return x


def _power(base: Number, exp: Number) -> Number:
    if isinstance(exp, (int, Fraction)) and Fraction(exp).denominator == 1:
        e = int(exp)
        if isinstance(base, (int, Fraction)):
            b = Fraction(base)
            size = max(b.numerator.bit_length(), b.denominator.bit_length())
            if size * abs(e) > MAX_BITS:
                raise CalculatorError("the result is too large")
            if b == 0 and e < 0:
                raise CalculatorError("division by zero")
            return b**e
    try:
        result = complex(base) ** complex(exp) if isinstance(base, complex) else float(base) ** float(exp)
    except OverflowError:
        raise CalculatorError("the result is too large") from None
    return result


class _Evaluator(ast.NodeVisitor):
    def visit_Expression(self, node: ast.Expression) -> Number:
        return self.visit(node.body)

    def visit_Constant(self, node: ast.Constant) -> Number:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float, complex)):
            raise CalculatorError(f"unsupported value {value!r}")
        return Fraction(value) if isinstance(value, int) else value

    def visit_Name(self, node: ast.Name) -> Number:
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise CalculatorError(f"unknown name {node.id!r}")

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
            return _check_size(_power(left, right))
        op = _BINARY.get(type(node.op))
        if op is None:
            raise CalculatorError("unsupported operator (use + - * / // % ** and parentheses)")
        if isinstance(node.op, ast.Div) and isinstance(left, Fraction) and isinstance(right, Fraction):
            if right == 0:
                raise CalculatorError("division by zero")
            return _check_size(left / right)
        try:
            return _check_size(op(left, right))
        except ZeroDivisionError:
            raise CalculatorError("division by zero") from None
        except TypeError:
            raise CalculatorError("unsupported operand types") from None

    def visit_Call(self, node: ast.Call) -> Number:
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            names = ", ".join(sorted(_FUNCTIONS))
            raise CalculatorError(f"unknown function; available: {names}")
        if node.keywords:
            raise CalculatorError("keyword arguments are not supported")
        args = [self.visit(a) for a in node.args]
        try:
            return _check_size(_FUNCTIONS[node.func.id](*args))
        except CalculatorError:
            raise
        except (ValueError, TypeError, OverflowError, ZeroDivisionError) as exc:
            raise CalculatorError(f"{node.func.id}: {exc}") from None

    def generic_visit(self, node: ast.AST) -> Number:
        raise CalculatorError(f"unsupported syntax: {type(node).__name__}")


def _format(value: Number) -> str:
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        return f"{value} = {float(value):.12g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, complex):
        return f"{value.real:.12g}{value.imag:+.12g}i"
    return f"{value:.12g}"


def evaluate(expression: str) -> Number:
    """Evaluate an arithmetic expression exactly where possible.

    Raises:
        CalculatorError: for anything it refuses, with the reason.
    """
    text = expression.strip().replace("^", "**").replace("×", "*").replace("÷", "/")
    text = text.replace("−", "-")
    if "(" not in text:  # "1,000 * 3": commas can only be thousands separators here
        text = _THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), text)
    if not text:
        raise CalculatorError("empty expression")
    if len(text) > MAX_CHARS:
        raise CalculatorError(f"expression longer than {MAX_CHARS} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError):
        raise CalculatorError("not a valid arithmetic expression") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise CalculatorError("expression too long")
    try:
        return _Evaluator().visit(tree)
    except RecursionError:
        raise CalculatorError("expression nested too deeply") from None


class Calculator(Tool):
    """Exact arithmetic: integers and fractions stay exact; functions give floats."""

    name = "calculator"
    argument = "expression"
    description = (
        "calculator: evaluates an arithmetic expression (+ - * / // % ** ^, parentheses, "
        "sqrt, log, sin, factorial, gcd, comb, pi, e). Example: "
        '<tool name="calculator">(37*41 + 3)/4</tool>'
    )

    def __call__(self, argument: str) -> ToolResult:
        try:
            return ToolResult(_format(evaluate(argument)))
        except CalculatorError as exc:
            return ToolResult(f"Error: {exc}", ok=False)
