"""The slow path: latex2sympy2_extended + sympy, bounded in time, for what the fast path can't read.

sympy is imported here lazily (it costs ~0.5 s), only the first time an answer needs it; that
one-time import happens before the clock starts (see :func:`warm_up`).

How the time bound works:

1. *Guard* first: LaTeX that could make sympy or Python's big integers run for a long time
   without yielding (very long input, huge exponents or factorials, nested powers) is
   refused outright, and the caller reports ``method="timeout"``.
2. *Main thread*: the work runs under ``signal.setitimer(ITIMER_REAL)``; the alarm raises
   inside sympy and the work stops. This is used only when no other interval timer is armed
   (so a caller's own alarm, e.g. math-verify's or pytest-timeout's, is never clobbered); the
   previous SIGALRM handler is restored afterwards.
3. *Any other thread* (or when a timer is already armed): the work runs in a daemon thread
   and the caller waits at most the remaining budget. On timeout the caller gets its answer
   on time, but the worker cannot be killed and runs on in the background until it finishes;
   the guard in step 1 keeps that rare and short. While two such abandoned workers are still
   running, further fallbacks are refused (``method="timeout"``) instead of piling up.

Every timeout resolves to "not equal", also for later comparisons:

- an interrupt can cut through code that updates shared state (sympy's ``evaluate`` switch,
  its expression cache and the assumptions cached on shared expressions, mpmath's working
  precision), and an abandoned worker keeps using that state while later comparisons run. So
  after every timeout that state is rebuilt (:func:`_reset_after_interrupt`; the ANTLR
  parser's shared DFA is not: its runtime inserts only fully built states, and rebuilding it
  costs ~0.3 s on the next parse), and a comparison that found "equal" while an abandoned
  worker was running counts as a timeout: its evidence may come from state the worker was
  changing underneath it.
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")

MAX_LATEX_LEN = 400
MAX_ABANDONED = 2
_ALARM_REPEAT_S = 0.05

_DANGEROUS = (
    re.compile(r"\^\s*\{?\s*[-+(]*\s*\d{5,}"),  # x^{100000}
    re.compile(r"\^\s*\{[^{}]*\^"),  # nested exponent: 9^{9^{9}}
    re.compile(r"\^\s*\d+\s*\^"),  # 9^9^9
    re.compile(r"\^\s*\{[^{}]*\{[^{}]*\^"),  # 9^{(9^{9})}
    re.compile(r"\d{4,}\s*!"),  # 10000!
    re.compile(r"!\s*!"),  # (n!)!
    re.compile(r"\\binom\s*\{?\s*\d{5,}"),
    re.compile(r"\d{40,}"),  # huge literals
)

_abandoned_lock = threading.Lock()
_abandoned: list[threading.Thread] = []


class SympyTimeout(Exception):
    """The slow path ran out of time (or refused to start)."""


class _Alarm(BaseException):
    """Raised by our SIGALRM handler; a BaseException so sympy's ``except Exception`` can't
    swallow it."""


def is_dangerous(latex: str) -> bool:
    """Whether ``latex`` is too big or could trigger an unbounded big-integer computation."""
    if len(latex) > MAX_LATEX_LEN:
        return True
    return any(pattern.search(latex) for pattern in _DANGEROUS)


def run_bounded(func: Callable[[], _T], timeout_s: float) -> _T:
    """Run ``func`` for at most ``timeout_s`` seconds (see module docstring for how).

    Raises:
        SympyTimeout: on timeout, or when too many earlier workers are still running.
    """
    if timeout_s <= 0:
        raise SympyTimeout("no time left")
    if _can_use_alarm():
        return _run_with_alarm(func, timeout_s)
    return _run_in_thread(func, timeout_s)


def _can_use_alarm() -> bool:
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        return False
    try:
        return signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    except (OSError, ValueError):
        return False


def _run_with_alarm(func: Callable[[], _T], timeout_s: float) -> _T:
    armed = [True]

    def on_alarm(signum: int, frame: Any) -> None:
        if armed[0]:
            raise _Alarm

    try:
        previous = signal.signal(signal.SIGALRM, on_alarm)
    except ValueError:  # not the main interpreter
        return _run_in_thread(func, timeout_s)
    try:
        # Re-fires every 50 ms: an alarm that lands in a gc callback or __del__ is swallowed
        # by Python ("exception ignored"), so a single shot could be lost.
        signal.setitimer(signal.ITIMER_REAL, timeout_s, _ALARM_REPEAT_S)
        try:
            return func()
        finally:
            armed[0] = False
            signal.setitimer(signal.ITIMER_REAL, 0.0)
    except _Alarm as exc:
        raise SympyTimeout(f"sympy took longer than {timeout_s:.3g} s") from exc
    finally:
        signal.signal(signal.SIGALRM, previous)


def _run_in_thread(func: Callable[[], _T], timeout_s: float) -> _T:
    with _abandoned_lock:
        _abandoned[:] = [t for t in _abandoned if t.is_alive()]
        if len(_abandoned) >= MAX_ABANDONED:
            raise SympyTimeout("earlier sympy workers are still running")
    result: list[_T] = []
    error: list[BaseException] = []

    def work() -> None:
        try:
            result.append(func())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            error.append(exc)

    worker = threading.Thread(target=work, name="reasongym-math-sympy", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        with _abandoned_lock:
            _abandoned.append(worker)
        raise SympyTimeout(f"sympy took longer than {timeout_s:.3g} s (worker left running)")
    if error:
        raise error[0]
    return result[0]


# -- the comparison itself ------------------------------------------------------------------

_COMPLEX_HINT = re.compile(r"(?<![A-Za-z\\])[ij](?![A-Za-z])|\\mathbb\{C\}")


def _to_sympy(latex: str) -> Any:
    from latex2sympy2_extended import latex2sympy
    from latex2sympy2_extended.math_normalization import NormalizationConfig

    config = NormalizationConfig(
        basic_latex=True, units=True, malformed_operators=True, nits=True, boxed="none"
    )
    return latex2sympy(latex, is_real=not _COMPLEX_HINT.search(latex), normalization_config=config)


def _sympy_equal(gold_latex: str, pred_latex: str) -> bool:
    import sympy

    gold = _to_sympy(gold_latex)
    pred = _to_sympy(pred_latex)
    if gold == pred:
        return True
    if isinstance(gold, sympy.Set) and isinstance(pred, sympy.Set):
        return bool(gold.symmetric_difference(pred).is_empty)
    if isinstance(gold, sympy.MatrixBase) and isinstance(pred, sympy.MatrixBase):
        return gold.shape == pred.shape and bool(sympy.simplify(gold - pred).is_zero_matrix)
    if isinstance(gold, sympy.core.relational.Relational) and isinstance(
        pred, sympy.core.relational.Relational
    ):
        if type(gold) is not type(pred):
            return False
        gold = gold.lhs - gold.rhs
        pred = pred.lhs - pred.rhs
    if not (isinstance(gold, sympy.Expr) and isinstance(pred, sympy.Expr)):
        return False
    diff = gold - pred
    if not diff.free_symbols:
        return _constants_equal(gold, diff)
    return bool(sympy.simplify(diff) == 0)


def _constants_equal(gold: Any, diff: Any) -> bool:
    """``gold - pred == 0`` for constants, decided soundly.

    ``evalf(strict=True)`` either certifies 30 correct digits or raises: a value lost to
    cancellation or to a function of a huge argument is never read as "close to zero". The
    tolerance is relative to the gold's value (zero for a zero gold); when the difference
    cannot be certified, only an exact symbolic simplification to zero counts.
    """
    import sympy
    from sympy.core.evalf import PrecisionExhausted

    try:
        value = abs(complex(diff.evalf(30, strict=True)))
        scale = abs(complex(gold.evalf(30, strict=True)))
    except (PrecisionExhausted, TypeError, ValueError):
        return bool(sympy.simplify(diff) == 0)
    return value <= 1e-10 * scale


def warm_up() -> None:
    """Import sympy and latex2sympy2_extended now (~0.5 s, once per process).

    The slow path calls this before starting its clock, so the one-time import never eats
    into (or times out) a ``timeout_s`` budget; call it yourself to move that cost up front.
    """
    import latex2sympy2_extended  # noqa: F401
    import sympy  # noqa: F401


def sympy_equal(gold_latex: str, pred_latex: str, timeout_s: float) -> bool:
    """Compare two LaTeX answers with sympy, within ``timeout_s`` seconds.

    Returns:
        Whether they are equal; False when either side does not parse.

    Raises:
        SympyTimeout: when the guard refuses the input or the time runs out.
    """
    if is_dangerous(gold_latex) or is_dangerous(pred_latex):
        raise SympyTimeout("input refused by the size guard")
    warm_up()

    def work() -> bool:
        try:
            _reset_sympy_state()  # whatever an interrupted comparison left behind
            return _sympy_equal(gold_latex, pred_latex)
        except Exception:  # noqa: BLE001 - any parse/compare failure means "not shown equal"
            return False

    try:
        equal = run_bounded(work, timeout_s)
    except SympyTimeout:
        _reset_after_interrupt()
        raise
    if equal and _workers_running():
        raise SympyTimeout("an abandoned sympy worker ran during the comparison")
    return equal


def _workers_running() -> bool:
    with _abandoned_lock:
        _abandoned[:] = [t for t in _abandoned if t.is_alive()]
        return bool(_abandoned)


def _reset_after_interrupt() -> None:
    """Rebuild the shared state an interrupted comparison may have left half updated."""
    _reset_sympy_state()
    try:
        import mpmath
        from sympy.core.cache import clear_cache

        mpmath.mp.prec = 53  # mpmath's default; workprec() blocks restore it in a finally
        clear_cache()  # cached expressions carry cached assumptions
    except ImportError:  # sympy/mpmath not installed: the slow path never ran
        pass


def _reset_sympy_state() -> None:
    """Restore sympy's global switches to their defaults (evaluate, distribute)."""
    from sympy.core.parameters import global_parameters

    global_parameters.evaluate = True
    global_parameters.distribute = True
