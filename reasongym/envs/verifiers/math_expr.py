"""A small parser for scalar math expressions written in LaTeX or plain text.

It covers what final answers are made of: numbers (``2.5``, ``1e-3``), ``+ - * /`` with
implicit multiplication (``2x``, ``2\\sqrt{2}``, ``(x+1)(x-1)``), powers (``^``, ``**``),
``\\frac``, ``\\sqrt[n]{}``, ``!``, ``\\binom``, ``|x|``, floor/ceil, trig/log/exp functions,
constants (``\\pi``, ``e``, ``i``/``j``, ``\\infty``) and variables (``x``, ``x_1``,
``\\theta``). Anything else raises :class:`ExprSyntaxError`, and the caller decides what to do
(compare as text, or hand the LaTeX to sympy).

Conventions (the same as latex2sympy2_extended unless noted):
``\\log`` is base 10, ``\\ln`` natural; ``2\\frac{1}{2}`` is the mixed number 5/2; ``i`` and
``j`` are the imaginary unit, ``e`` is Euler's number; in plain text ``2^10`` is 2**10 (not
LaTeX's ``2^1 0``); a run of three or more letters that is not a known function is a word,
not a product of variables, so ``"even"`` and ``"yes"`` are text (``"xy"`` is x*y).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction


class ExprSyntaxError(ValueError):
    """The text is not an expression this parser understands."""


@dataclass(frozen=True, slots=True)
class Num:
    """A number literal; ``text`` keeps the digits as written (``"0.50"``)."""

    value: Fraction
    text: str

    @property
    def is_decimal(self) -> bool:
        return "." in self.text or "e" in self.text.lower()


@dataclass(frozen=True, slots=True)
class Sym:
    """A free variable."""

    name: str


@dataclass(frozen=True, slots=True)
class Const:
    """A named constant: ``"pi"``, ``"e"``, ``"i"`` or ``"inf"``."""

    name: str


@dataclass(frozen=True, slots=True)
class Add:
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Mul:
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Div:
    num: Node
    den: Node


@dataclass(frozen=True, slots=True)
class Neg:
    arg: Node


@dataclass(frozen=True, slots=True)
class Pow:
    base: Node
    exp: Node


@dataclass(frozen=True, slots=True)
class Call:
    """A function application: sqrt (x, n), log (x, base), sin, fact, binom, abs, ..."""

    name: str
    args: tuple[Node, ...]


Node = Num | Sym | Const | Add | Mul | Div | Neg | Pow | Call

_MAX_DEPTH = 60  # nested groups; deeper input is rejected rather than recursed into
_MAX_LEN = 1_000
_MAX_SCI_EXPONENT = 400  # 1e999999 would build a million-digit integer

_NUMBER_RE = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+(?![A-Za-z]))?")
_WORD_RE = re.compile(r"[A-Za-z]+")
_COMMAND_RE = re.compile(r"\\([A-Za-z]+)")
_DEGREE_RE = re.compile(r"\^\s*(?:\\circ|\{\s*\\circ\s*\})")
_SUBSCRIPT_RE = re.compile(r"_\s*(?:\{([A-Za-z0-9,]+)\}|([A-Za-z0-9]))")

_TRIG = (
    "arcsin arccos arctan arcsec arccsc arccot sinh cosh tanh coth sech csch "
    "sin cos tan sec csc cot"
).split()
_FUNCTIONS = frozenset(_TRIG) | {"ln", "log", "lg", "exp"}
# Plain-text words recognised as a prefix of a letter run, longest first ("sinx" = sin x).
_PLAIN_WORDS = sorted(
    [*_FUNCTIONS, "sqrt", "abs", "pi", "infinity", "infty", "inf"], key=len, reverse=True
)
_GREEK = frozenset(
    """
    alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu
    xi omicron rho varrho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda
    Xi Sigma Upsilon Phi Psi Omega ell
    """.split()
)
_INVERSE_TRIG = {"sin": "arcsin", "cos": "arccos", "tan": "arctan"}
_MULT_COMMANDS = ("cdot", "times", "ast")
_STOP_COMMANDS = frozenset(
    """
    cdot times ast div le leq ge geq lt gt ne neq leqslant geqslant in cup cap pm mp to
    rfloor rceil rangle right end
    """.split()
)


def _flatten(cls: type[Add] | type[Mul], args: list[Node]) -> Node:
    flat: list[Node] = []
    for arg in args:
        if isinstance(arg, cls):
            flat.extend(arg.args)
        else:
            flat.append(arg)
    return flat[0] if len(flat) == 1 else cls(tuple(flat))


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)
        self.i = 0
        self.depth = 0
        self.abs_depth = 0

    # -- scanning helpers -------------------------------------------------------------------
    def error(self, what: str) -> ExprSyntaxError:
        return ExprSyntaxError(f"{what} at {self.i} in {self.s[:80]!r}")

    def ws(self) -> None:
        while self.i < self.n and self.s[self.i] in " \t\n\r":
            self.i += 1

    def peek(self) -> str:
        self.ws()
        return self.s[self.i] if self.i < self.n else ""

    def command(self) -> str | None:
        """The name of the ``\\command`` at the cursor, without consuming it."""
        self.ws()
        match = _COMMAND_RE.match(self.s, self.i)
        return match.group(1) if match else None

    def take_command(self, name: str) -> None:
        self.ws()
        self.i += len(name) + 1

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.error(f"expected {char!r}")
        self.i += 1

    def enter(self) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.error("nesting too deep")

    # -- grammar ----------------------------------------------------------------------------
    def parse(self) -> Node:
        node = self.sum()
        if self.peek():
            raise self.error("unexpected text")
        return node

    def sum(self) -> Node:
        self.enter()
        terms = [self.term()]
        while True:
            char = self.peek()
            if char == "+":
                self.i += 1
                terms.append(self.term())
            elif char == "-":
                self.i += 1
                terms.append(Neg(self.term()))
            else:
                break
        self.depth -= 1
        return _flatten(Add, terms)

    def starts_atom(self) -> bool:
        char = self.peek()
        if not char:
            return False
        if char.isalnum() or char in "(.[{":
            return True
        if char == "|":
            return self.abs_depth == 0
        if char == "\\":
            name = self.command()
            return name is not None and name not in _STOP_COMMANDS
        return False

    def term(self) -> Node:
        node = self.unary()
        while True:
            char = self.peek()
            name = self.command() if char == "\\" else None
            if char == "*" and not self.s.startswith("**", self.i):
                self.i += 1
                node = _flatten(Mul, [node, self.unary()])
            elif name in _MULT_COMMANDS:
                self.take_command(name)
                node = _flatten(Mul, [node, self.unary()])
            elif char == "/" or name == "div":
                if name:
                    self.take_command(name)
                else:
                    self.i += 1
                node = Div(node, self.unary())
            elif self.starts_atom():
                before_digit = self.peek().isdigit()
                factor = self.power()
                if before_digit and _ends_with_number(node):
                    raise self.error("two numbers in a row")
                node = _mixed_number(node, factor) or _flatten(Mul, [node, factor])
            else:
                return node

    def unary(self) -> Node:
        char = self.peek()
        if char == "-":
            self.i += 1
            return Neg(self.unary())
        if char == "+":
            self.i += 1
            return self.unary()
        return self.power()

    def power(self) -> Node:
        base = self.postfix()
        self.ws()
        degree = _DEGREE_RE.match(self.s, self.i)
        if degree:  # only left in by normalisation inside trig functions: 30^\circ = pi/6
            self.i = degree.end()
            return Mul((base, Div(Const("pi"), Num(Fraction(180), "180"))))
        if self.s.startswith("**", self.i) or self.s.startswith("^", self.i):
            self.i += 2 if self.s[self.i] == "*" else 1
            return Pow(base, self.exponent())
        return base

    def exponent(self) -> Node:
        self.enter()
        char = self.peek()
        if char in "-+":
            self.i += 1
            inner = self.exponent()
            node: Node = Neg(inner) if char == "-" else inner
        elif char == "{":
            node = self.group("{", "}")
        elif char == "(":
            node = self.group("(", ")")
        elif char.isdigit():
            node = self.number()
        elif char.isalpha():
            node = self.letter(single=True)
        elif char == "\\":
            node = self.atom()
        else:
            raise self.error("bad exponent")
        self.ws()
        if self.s.startswith("^", self.i):  # right-associative: 2^3^2 = 2^(3^2)
            self.i += 1
            node = Pow(node, self.exponent())
        self.depth -= 1
        return node

    def postfix(self) -> Node:
        node = self.atom()
        while self.peek() == "!" and not self.s.startswith("!=", self.i):
            self.i += 1
            node = Call("fact", (node,))
        return node

    def group(self, left: str, right: str) -> Node:
        self.expect(left)
        node = self.sum()
        self.expect(right)
        return node

    def number(self) -> Num:
        self.ws()
        match = _NUMBER_RE.match(self.s, self.i)
        if not match:
            raise self.error("expected a number")
        self.i = match.end()
        text = match.group(0)
        if text.endswith("."):
            raise self.error("dangling decimal point")
        mantissa, _, exponent = text.lower().partition("e")
        if exponent and abs(int(exponent)) > _MAX_SCI_EXPONENT:
            raise self.error("scientific exponent too large")
        try:
            return Num(Fraction(text), text)
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            raise self.error("bad number") from exc

    def letter(self, single: bool = False) -> Node:
        """A variable/constant letter, or (unless ``single``) a plain-text function word."""
        self.ws()
        word = _WORD_RE.match(self.s, self.i)
        if word is None:  # a non-ASCII letter
            raise self.error("unexpected letter")
        text = word.group(0)
        if not single:
            for plain in _PLAIN_WORDS:
                if text.startswith(plain) and (plain != "inf" or text in ("inf", "infinity")):
                    self.i += len(plain)
                    return self.plain_word(plain)
            if len(text) >= 3:
                raise self.error("a word, not an expression")
        self.i += 1
        name = text[0]
        sub = _SUBSCRIPT_RE.match(self.s, self.i)
        if sub:
            self.i = sub.end()
            return Sym(f"{name}_{sub.group(1) or sub.group(2)}")
        if name == "e":
            return Const("e")
        if name in "ij":
            return Const("i")
        return Sym(name)

    def plain_word(self, word: str) -> Node:
        if word == "pi":
            return Const("pi")
        if word in ("inf", "infty", "infinity"):
            return Const("inf")
        if word == "sqrt":
            return Call("sqrt", (self.function_argument(), Num(Fraction(2), "2")))
        if word == "abs":
            return Call("abs", (self.function_argument(),))
        return self.function(word)

    def function(self, name: str) -> Node:
        """Apply a function, after ``\\sin``/``sin`` (and ``\\log_2``, ``\\sin^2``)."""
        base: Node | None = None
        power: Node | None = None
        for _ in range(2):
            self.ws()
            if self.s.startswith("_", self.i) and name in ("log", "lg"):
                self.i += 1
                base = self.subscript_argument()
            elif self.s.startswith("^", self.i):
                self.i += 1
                power = self.exponent()
        if power is not None and power == Neg(Num(Fraction(1), "1")) and name in _INVERSE_TRIG:
            name, power = _INVERSE_TRIG[name], None
        arg = self.function_argument()
        if name == "log":
            node: Node = Call("log", (arg, base if base is not None else Num(Fraction(10), "10")))
        elif name == "lg":
            node = Call("log", (arg, Num(Fraction(10), "10")))
        elif name == "ln":
            node = Call("log", (arg, Const("e")))
        else:
            node = Call(name, (arg,))
        return Pow(node, power) if power is not None else node

    def subscript_argument(self) -> Node:
        char = self.peek()
        if char == "{":
            return self.group("{", "}")
        return self.command_argument()

    def function_argument(self) -> Node:
        """``(x)``, ``{x}``, or a run of implicit factors: ``\\sin 2x`` is sin(2x)."""
        char = self.peek()
        if char == "(":
            return self.group("(", ")")
        if char == "{":
            return self.group("{", "}")
        node = self.power()
        while self.peek()[:1].isalnum() or self.peek() == ".":
            node = _flatten(Mul, [node, self.power()])
        return node

    def command_argument(self) -> Node:
        """One argument of ``\\frac``/``\\sqrt``: ``{...}`` or a single character/command."""
        char = self.peek()
        if char == "{":
            return self.group("{", "}")
        if char.isdigit():
            self.i += 1
            return Num(Fraction(int(char)), char)
        if char.isalpha():
            return self.letter(single=True)
        if char == "\\":
            return self.atom()
        raise self.error("expected an argument")

    def atom(self) -> Node:
        self.enter()
        node = self._atom()
        self.depth -= 1
        return node

    def _atom(self) -> Node:
        char = self.peek()
        if not char:
            raise self.error("unexpected end")
        if char.isdigit() or char == ".":
            return self.number()
        if char == "(":
            return self.group("(", ")")
        if char == "[":
            return self.group("[", "]")
        if char == "{":
            return self.group("{", "}")
        if char == "|":
            self.i += 1
            self.abs_depth += 1
            node = self.sum()
            self.abs_depth -= 1
            self.expect("|")
            return Call("abs", (node,))
        if char.isalpha():
            return self.letter()
        if char == "\\":
            return self.latex_command()
        raise self.error(f"unexpected {char!r}")

    def latex_command(self) -> Node:
        name = self.command()
        if name is None:
            raise self.error("stray backslash")
        self.take_command(name)
        if name == "frac":
            num = self.command_argument()
            return Div(num, self.command_argument())
        if name == "sqrt":
            index: Node = Num(Fraction(2), "2")
            if self.peek() == "[":
                index = self.group("[", "]")
            if self.peek() == "(":
                return Call("sqrt", (self.group("(", ")"), index))
            return Call("sqrt", (self.command_argument(), index))
        if name == "binom":
            top = self.command_argument()
            return Call("binom", (top, self.command_argument()))
        if name == "pi":
            return Const("pi")
        if name in ("infty", "infin"):
            return Const("inf")
        if name in ("imath", "jmath", "i"):
            return Const("i")
        if name == "exp":
            return self.function("exp")
        if name in _FUNCTIONS:
            return self.function(name)
        if name in ("lfloor", "lceil"):
            inner = self.sum()
            closing = "rfloor" if name == "lfloor" else "rceil"
            if self.command() != closing:
                raise self.error(f"expected \\{closing}")
            self.take_command(closing)
            return Call("floor" if name == "lfloor" else "ceil", (inner,))
        if name in ("lvert", "vert"):
            inner = self.sum()
            if self.command() not in ("rvert", "vert"):
                raise self.error("expected \\rvert")
            self.take_command(self.command() or "")
            return Call("abs", (inner,))
        if name in _GREEK:
            return Sym(name)
        raise self.error(f"unsupported command \\{name}")


def _ends_with_number(node: Node) -> bool:
    while isinstance(node, Mul):
        node = node.args[-1]
    return isinstance(node, Num)


def _mixed_number(whole: Node, frac: Node) -> Node | None:
    """``2\\frac{1}{2}`` -> 2 + 1/2 (and ``-2\\frac12`` -> -(2 + 1/2))."""
    if not (
        isinstance(frac, Div)
        and isinstance(frac.num, Num)
        and isinstance(frac.den, Num)
        and not frac.num.is_decimal
        and not frac.den.is_decimal
    ):
        return None
    negative = isinstance(whole, Neg)
    inner = whole.arg if isinstance(whole, Neg) else whole
    if not (isinstance(inner, Num) and not inner.is_decimal):
        return None
    mixed = Add((inner, frac))
    return Neg(mixed) if negative else mixed


def parse_expr(text: str) -> Node:
    """Parse one scalar expression.

    Args:
        text: normalised LaTeX or plain text, e.g. ``"2\\sqrt{2}"`` or ``"(x+1)^2"``.

    Raises:
        ExprSyntaxError: on anything outside the supported grammar (including input longer
            than 1,000 characters or nested deeper than 60 groups).
    """
    if len(text) > _MAX_LEN:
        raise ExprSyntaxError("expression too long")
    if not text.strip():
        raise ExprSyntaxError("empty expression")
    try:
        return _Parser(text).parse()
    except RecursionError as exc:  # belt and braces: _MAX_DEPTH should come first
        raise ExprSyntaxError("nesting too deep") from exc


def free_symbols(node: Node) -> frozenset[str]:
    """Names of the variables in ``node``."""
    if isinstance(node, Sym):
        return frozenset((node.name,))
    if isinstance(node, (Num, Const)):
        return frozenset()
    if isinstance(node, (Add, Mul, Call)):
        out: frozenset[str] = frozenset()
        for arg in node.args:
            out |= free_symbols(arg)
        return out
    if isinstance(node, Div):
        return free_symbols(node.num) | free_symbols(node.den)
    if isinstance(node, Pow):
        return free_symbols(node.base) | free_symbols(node.exp)
    return free_symbols(node.arg)


_STEP_FUNCTIONS = frozenset({"floor", "ceil", "fact", "binom", "mod", "gcd", "lcm", "round"})


def has_step(node: Node) -> bool:
    """Whether a piecewise-constant function (floor, ceil, factorial, ...) occurs in ``node``:
    two such expressions can agree at every small sample point and still differ."""
    if isinstance(node, (Num, Sym, Const)):
        return False
    if isinstance(node, Call):
        return node.name in _STEP_FUNCTIONS or any(has_step(arg) for arg in node.args)
    if isinstance(node, (Add, Mul)):
        return any(has_step(arg) for arg in node.args)
    if isinstance(node, Div):
        return has_step(node.num) or has_step(node.den)
    if isinstance(node, Pow):
        return has_step(node.base) or has_step(node.exp)
    return has_step(node.arg)


def has_decimal(node: Node) -> bool:
    """Whether a decimal literal (an approximation, maybe) occurs in ``node``."""
    if isinstance(node, Num):
        return node.is_decimal
    if isinstance(node, (Sym, Const)):
        return False
    if isinstance(node, (Add, Mul, Call)):
        return any(has_decimal(arg) for arg in node.args)
    if isinstance(node, Div):
        return has_decimal(node.num) or has_decimal(node.den)
    if isinstance(node, Pow):
        return has_decimal(node.base) or has_decimal(node.exp)
    return has_decimal(node.arg)


def infinity_sign(node: Node) -> int:
    """+1 for ``\\infty``/``+\\infty``, -1 for ``-\\infty``, 0 otherwise."""
    if isinstance(node, Const) and node.name == "inf":
        return 1
    if isinstance(node, Neg):
        return -infinity_sign(node.arg)
    return 0
