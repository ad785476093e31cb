"""The trusted test harness that runs inside the sandbox (standard library only, Python 3.8+).

It is the program of a sandbox run, started by a small loader (``main.py``): from the
sandbox's warm copy of this module when it has one (``Sandbox.warm_module``: the Docker fork
server imports it once per container), else from ``harness.bin``/``harness.py`` in the work dir.
The host imports it only for what it shares with the harness (the codec, ``plan_calls``,
``compile_task``); :mod:`reasongym.envs.verifiers.code_runner` explains the design and parses
what it prints. In order:

1. The harness makes itself non-dumpable (``prctl(PR_SET_DUMPABLE, 0)``): a process of the
   same uid can then neither ptrace it nor open its ``/proc/<pid>/{fd,mem,environ,...}``.
   It drops every import path the sandbox user could write (``/work``, ``/tmp``, ...), so
   that no later ``import`` (its own, or one in a test) can load a planted module.
2. It has the *worker* BEFORE reading anything from stdin: forked now, or (Docker) forked
   ahead of the run by the sandbox's spare (``__prepare_spare__``) and held until now. The
   worker points fd 0 at ``/dev/null``, fds 1/2 at an unlinked scratch file, closes every
   other fd but its two pipe ends, and only then loads ``solution.py`` (the candidate) in a
   fresh namespace and serves calls: ``[id, name, args, kwargs]`` in, ``[id, kind, payload]``
   out, framed by a 4-byte length.
3. The harness then reads the nonce and the tests from its stdin (the worker has no fd to
   it and cannot reach the harness's memory), defines the prompt's helpers in its own
   namespace from the task's text, binds ``candidate`` and the entry-point name to a proxy,
   and runs the tests itself. The proxy sends arguments to the worker and decodes what
   comes back with a bounded, tagged codec into exact built-in types only; anything else
   (another type, a bad frame, a crash, a timeout, an oversized answer) fails that test.
   Calls the tests will make with literal arguments are announced in one batch first
   (``plan_calls``, worked out by the host), so that most answers need no round trip of
   their own; the steps arrive compiled by the host when its interpreter has this one's
   bytecode (``compile_task``), else are compiled here.
4. A worker that hangs, crashes or breaks the protocol is killed and, while time remains,
   replaced by a fresh interpreter (fork + exec, so none of the harness's memory survives)
   for the following tests.
5. At the end the harness alone writes one line to its stdout: the nonce and a JSON report.
"""

# ruff: noqa: UP031 - %-formatting keeps this standalone program plain for any Python 3.8+

# ``_signal``: the C module under ``signal``, the same calls on plain ints without the enum
# wrapping (a process fresh from a fork copies every page it touches, and that touches many)
import _signal as signal
import ast
import base64
import builtins
import json
import os
import re
import select
import sys
import time
from types import CodeType

MAX_FRAME = 4 << 20  # bytes of one message either way
MAX_DEPTH = 100  # nesting of one value
MAX_NODES = 200_000  # containers + scalars in one value
MAX_TEXT = 300  # characters of a message kept per test
STDOUT_TAIL = 2000  # characters of the candidate's output kept
REPORT_BYTES = 60_000  # the report line stays under the sandbox's default 64 KiB output cap
PR_SET_DUMPABLE, PR_GET_DUMPABLE = 4, 3
BATCH = "#batch"  # a request that carries many calls; the worker answers each in turn
MAX_PLAN = 1000  # calls announced ahead in one batch
EARLY_BATCH = 32 << 10  # a batch up to this size is sent before the worker has loaded
MAX_BUFFERED = 32 << 20  # bytes of answers the harness holds before they are asked for


class CodecError(Exception):
    """A value cannot cross the process boundary."""


# --- codec: plain data <-> JSON of tagged lists ---------------------------------------------
# None ["N"], True ["T"], False ["F"], int ["i", hex], float ["f", float.hex], complex ["c", re, im],
# str ["s", text], bytes ["b", base64], list ["l", [...]], tuple ["t", [...]], set ["S", [...]],
# frozenset ["z", [...]], dict ["d", [[k, v], ...]]. Hex ints are linear to parse and not
# subject to the int-digit limit; float.hex round-trips nan/inf exactly.

_SEQ_TAGS = {list: "l", tuple: "t", set: "S", frozenset: "z"}
_HEX_INT = re.compile(r"-?[0-9a-f]+\Z")


def encode(value, depth=0):
    """Tagged JSON-able form of ``value``; raises CodecError for anything but exact built-ins."""
    if depth > MAX_DEPTH:
        raise CodecError("a value nested deeper than %d levels" % MAX_DEPTH)
    kind = type(value)
    if value is None:
        return ["N"]
    if kind is bool:
        return ["T"] if value else ["F"]
    if kind is int:
        return ["i", format(value, "x")]
    if kind is float:
        return ["f", value.hex()]
    if kind is complex:
        return ["c", value.real.hex(), value.imag.hex()]
    if kind is str:
        return ["s", value]
    if kind is bytes:
        return ["b", base64.b64encode(value).decode("ascii")]
    if kind in _SEQ_TAGS:
        return [_SEQ_TAGS[kind], [encode(item, depth + 1) for item in value]]
    if kind is dict:
        return ["d", [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]]
    raise CodecError(
        "a value of type %s, which cannot be checked: only plain built-in data (None, bool, int, "
        "float, complex, str, bytes, and lists, tuples, sets, frozensets, dicts of them) can"
        % _type_name(value)
    )


def _type_name(value):
    try:
        name = type(value).__qualname__
        return name if type(name) is str else "?"
    except BaseException:  # noqa: BLE001 - a hostile metaclass
        return "?"


def _reject_number(text):
    raise CodecError("bare JSON numbers are not part of the protocol")


# One decoder and one encoder for every frame (``json.loads``/``dumps`` with options build a
# new one per call, which costs more than a small frame's parse).
_FRAME_DECODER = json.JSONDecoder(
    parse_int=_reject_number, parse_float=_reject_number, parse_constant=_reject_number
)
_FRAME_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))


def loads(data):
    """Parse one frame's JSON without ever building a number (no int-digit-limit errors)."""
    try:
        return _FRAME_DECODER.decode(data.decode("utf-8", "strict"))
    except CodecError:
        raise
    except (ValueError, RecursionError, MemoryError, UnicodeDecodeError) as exc:
        raise CodecError("undecodable message (%s)" % type(exc).__name__) from None


def decode(tree):
    """The value a tagged tree stands for, built from exact built-in types only."""
    budget = [MAX_NODES]
    return _decode(tree, 0, budget)


def _decode(node, depth, budget):
    budget[0] -= 1
    if budget[0] < 0:
        raise CodecError("the value has more than %d parts" % MAX_NODES)
    if depth > MAX_DEPTH:
        raise CodecError("the value is nested deeper than %d levels" % MAX_DEPTH)
    if type(node) is not list or not node or type(node[0]) is not str:
        raise CodecError("malformed value")
    tag, n = node[0], len(node)
    if n == 1:
        if tag == "N":
            return None
        if tag == "T":
            return True
        if tag == "F":
            return False
    elif n == 2:
        arg = node[1]
        if tag == "s" and type(arg) is str:
            return arg
        if tag == "i" and type(arg) is str and _HEX_INT.match(arg):
            return int(arg, 16)
        if tag == "f" and type(arg) is str:
            return _float(arg)
        if tag == "b" and type(arg) is str:
            try:
                return base64.b64decode(arg.encode("ascii"), validate=True)
            except ValueError:
                raise CodecError("malformed bytes") from None
        if type(arg) is list:
            if tag == "d":
                out = {}
                for pair in arg:
                    if type(pair) is not list or len(pair) != 2:
                        raise CodecError("malformed dict item")
                    key = _decode(pair[0], depth + 1, budget)
                    _hashable(key)
                    out[key] = _decode(pair[1], depth + 1, budget)
                return out
            items = [_decode(item, depth + 1, budget) for item in arg]
            if tag == "l":
                return items
            if tag == "t":
                return tuple(items)
            if tag in ("S", "z"):
                for item in items:
                    _hashable(item)
                return set(items) if tag == "S" else frozenset(items)
    elif n == 3 and tag == "c" and type(node[1]) is str and type(node[2]) is str:
        return complex(_float(node[1]), _float(node[2]))
    raise CodecError("malformed value")


def _float(text):
    if len(text) > 40:
        raise CodecError("malformed float")
    try:
        return float.fromhex(text)
    except (ValueError, OverflowError):
        raise CodecError("malformed float") from None


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        raise CodecError("an unhashable value as a dict key or set item") from None


# --- framing -----------------------------------------------------------------------------------


class ChannelError(Exception):
    """The other end hung up, timed out or broke the framing."""


def send_frame(fd, obj, deadline=None, max_bytes=MAX_FRAME):
    data = _FRAME_ENCODER.encode(obj).encode("ascii")
    if len(data) > max_bytes:
        raise CodecError("more than %d MiB of data (the limit of one message)" % (MAX_FRAME >> 20))
    view = memoryview(len(data).to_bytes(4, "big") + data)
    while view:
        if deadline is not None:
            _wait(fd, deadline, write=True)
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            continue
        except OSError as exc:
            raise ChannelError("the pipe is closed (%s)" % type(exc).__name__) from None


def recv_frame(fd, deadline=None, sized=False):
    """One parsed message, or None on a clean end of stream (``(message, bytes)`` if sized)."""
    head = _read_exact(fd, 4, deadline, eof_ok=True)
    if head is None:
        return (None, 0) if sized else None
    size = int.from_bytes(head, "big")
    if size > MAX_FRAME:
        raise ChannelError("a message of %d bytes (the limit is %d)" % (size, MAX_FRAME))
    msg = loads(_read_exact(fd, size, deadline, eof_ok=False))
    return (msg, size) if sized else msg


def _read_exact(fd, size, deadline, eof_ok):
    chunks, got = [], 0
    while got < size:
        if deadline is not None:
            _wait(fd, deadline, write=False)
        try:
            chunk = os.read(fd, min(size - got, 1 << 20))
        except BlockingIOError:
            continue
        except OSError as exc:
            raise ChannelError("the pipe failed (%s)" % type(exc).__name__) from None
        if not chunk:
            if eof_ok and got == 0:
                return None
            raise ChannelError("the process closed its pipe mid-message")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class FrameReader:
    """Frames from a non-blocking fd, read in bulk: one read takes every answer already in the
    pipe (the worker answers an announced batch back to back), so most frames cost no
    syscall. Holds at most one read past the frame it returns."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = bytearray()
        self.at = 0  # start of the unread bytes in buf

    def recv(self, deadline, sized=False):
        """One parsed message, or None on a clean end of stream (``(message, bytes)`` if sized)."""
        while True:
            have = len(self.buf) - self.at
            if have >= 4:
                size = int.from_bytes(self.buf[self.at : self.at + 4], "big")
                if size > MAX_FRAME:
                    raise ChannelError(
                        "a message of %d bytes (the limit is %d)" % (size, MAX_FRAME)
                    )
                if have >= 4 + size:
                    data = bytes(self.buf[self.at + 4 : self.at + 4 + size])
                    self.at += 4 + size
                    if self.at == len(self.buf):
                        self.buf, self.at = bytearray(), 0
                    msg = loads(data)
                    return (msg, size) if sized else msg
            _wait(self.fd, deadline, write=False)
            try:
                chunk = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                continue
            except OSError as exc:
                raise ChannelError("the pipe failed (%s)" % type(exc).__name__) from None
            if not chunk:
                if have == 0:
                    return (None, 0) if sized else None
                raise ChannelError("the process closed its pipe mid-message")
            if self.at:
                del self.buf[: self.at]
                self.at = 0
            self.buf += chunk


class Deadline(Exception):
    pass


def _wait(fd, deadline, write):
    if fd < 0:  # closed by kill(): no path may select on a dead worker's fd
        raise ChannelError("the pipe is closed")
    left = deadline - time.monotonic()
    if left <= 0:
        raise Deadline()
    try:
        r, w, _ = select.select([] if write else [fd], [fd] if write else [], [], left)
    except (OSError, ValueError) as exc:
        raise ChannelError("the pipe failed (%s)" % type(exc).__name__) from None
    if not (r or w):
        raise Deadline()


# --- the worker: the candidate's process ---------------------------------------------------


def _worker_setup(reuse=False):
    """The worker's signals and std streams (before it loads anything). ``reuse``: the text
    streams inherited on fds 1 and 2 are unused (a worker forked ahead by the sandbox's
    seed, whose streams nothing has written to): reconfigured, not built anew."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = getattr(sys, name)
        try:
            if reuse and stream.fileno() == fd and hasattr(stream, "reconfigure"):
                stream.reconfigure(line_buffering=True, errors="backslashreplace")
                continue
        except Exception:  # noqa: BLE001 - e.g. no fileno: a new one
            pass
        setattr(sys, name, open(fd, "w", buffering=1, closefd=False, errors="backslashreplace"))


def worker_main(req_fd, resp_fd, set_up=False):
    """Load ``solution.py`` and serve calls until the harness closes the pipe. Untrusted from
    the moment the solution runs: nothing here is relied on by the harness."""
    if not set_up:
        _worker_setup()
    ns = {"__name__": "__main__", "__builtins__": builtins}
    try:
        with open("solution.py", "rb") as f:
            source = f.read()
        exec(compile(source, "solution.py", "exec"), ns)
    except BaseException as exc:  # noqa: BLE001 - every failure is the candidate's
        _flush()
        send_frame(resp_fd, ["0", "load_error", _describe(exc)])
        return
    _flush()
    names = [k for k, v in list(ns.items()) if type(k) is str and callable(v)][:1000]
    send_frame(resp_fd, ["0", "loaded", names])
    while True:
        msg = recv_frame(req_fd)
        if msg is None:
            return
        seq, name, args, kwargs = msg
        calls = args if name == BATCH else [[name, args, kwargs]]
        for i, (fn_name, fn_args, fn_kwargs) in enumerate(calls):
            reply_id = "%s.%d" % (seq, i) if name == BATCH else seq
            reply = _serve_one(ns, fn_name, fn_args, fn_kwargs)
            _flush()
            try:
                send_frame(resp_fd, [reply_id] + reply)
            except CodecError as exc:
                send_frame(resp_fd, [reply_id, "bad", "%s returned %s" % (fn_name, exc)])


def _serve_one(ns, name, args, kwargs):
    fn = ns.get(name)
    if not callable(fn):
        return ["missing", "the solution does not define a function named %r" % name]
    try:
        result = fn(*decode(args), **decode(kwargs))
    except BaseException as exc:  # noqa: BLE001
        return ["raise", [_builtin_base(exc), _describe(exc)]]
    try:
        return ["ok", encode(result)]
    except CodecError as exc:
        return ["bad", "%s returned %s" % (name, exc)]
    except RecursionError:
        return ["bad", "%s returned a value nested too deeply" % name]


def _builtin_base(exc):
    for cls in type(exc).__mro__:
        if getattr(cls, "__module__", None) == "builtins":
            return cls.__name__
    return "Exception"


def _describe(exc):
    try:
        text = "%s: %s" % (_type_name(exc), str(exc))
    except BaseException:  # noqa: BLE001 - a hostile __str__
        text = _type_name(exc)
    return text[:MAX_TEXT] if type(text) is str else "?"


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass


# --- the harness: trusted side ---------------------------------------------------------------


class CandidateFailure(BaseException):
    """The call did not produce checkable data (timeout, crash, bad value, protocol error).

    A BaseException, so that a test's ``except Exception`` cannot turn it into a pass."""


class CandidateRaised(Exception):
    """The candidate raised; re-raised in the test as (a subclass of) its built-in class."""


_NOT_RERAISED = (StopIteration, StopAsyncIteration)  # would end a caller's loop silently
_RAISED_CLASSES = {}


def _raised(base_name, text):
    base = getattr(builtins, base_name, None) if type(base_name) is str else None
    if not (isinstance(base, type) and issubclass(base, Exception)) or issubclass(
        base, _NOT_RERAISED
    ):
        base = Exception
    cls = _RAISED_CLASSES.get(base)
    if cls is None:
        try:
            cls = type(base.__name__, (CandidateRaised, base), {"__module__": "candidate"})
            cls(text)
        except TypeError:
            cls = CandidateRaised
        _RAISED_CLASSES[base] = cls
    return cls(text)


def _text(value):
    return value[:MAX_TEXT] if type(value) is str else "?"


class Worker:
    """The harness's handle on one worker process."""

    def __init__(self, pid, req_fd, resp_fd):
        self.pid, self.req_fd, self.resp_fd = pid, req_fd, resp_fd
        self.seq = 0
        self.dead = None  # why it can no longer be used
        self.ended = None  # how the process ended, once killed
        self.names = []  # what the worker says it defines (for messages only)
        self.announced = {}  # call key -> ids of answers to announced calls, in order
        self.outstanding = set()  # ids asked for and not yet answered
        self.buffered = {}  # id -> (answer, size) that arrived before it was needed
        self.buffered_bytes = 0
        self.reader = FrameReader(resp_fd)
        for fd in (req_fd, resp_fd):
            os.set_blocking(fd, False)

    def announce(self, calls, deadline, max_bytes=MAX_FRAME):
        """Send calls the tests will (probably) make, so that the worker answers them back to
        back instead of one round trip each. ``calls``: ``[name, wire args, wire kwargs]``.
        False when nothing was sent (bigger than ``max_bytes``, or the worker stopped reading)."""
        self.seq += 1
        seq = "%x" % self.seq
        try:
            send_frame(self.req_fd, [seq, BATCH, calls, None], deadline, max_bytes)
        except CodecError:
            return False  # too big to announce (now): every call goes live
        except Deadline:
            self.kill("stopped reading")
            return False
        except ChannelError:
            # The worker closed its end (it ended while loading, most often): what it said
            # before that (a load error) is still in its answer pipe, so keep reading that.
            self.dead = self.dead or "stopped reading"
            self._close(req=True)
            return False
        for i, call in enumerate(calls):
            reply_id = "%s.%d" % (seq, i)
            self.announced.setdefault(_call_key(*call), []).append(reply_id)
            self.outstanding.add(reply_id)
        return True

    def _answer(self, want, deadline):
        """The worker's answer ``want``, or None at the end of its stream. Answers to other
        ids still expected are kept for later; ``want=None`` keeps the next one and returns
        True."""
        if want in self.buffered:
            msg, size = self.buffered.pop(want)
            self.buffered_bytes -= size
            return msg
        while True:
            msg, size = self.reader.recv(deadline, sized=True)
            if msg is None:
                return None
            if type(msg) is not list or len(msg) != 3 or type(msg[0]) is not str:
                raise ChannelError("a malformed answer")
            if type(msg[1]) is not str:
                raise ChannelError("a malformed answer")
            if msg[0] == want and want is not None:
                self.outstanding.discard(want)
                return msg
            if msg[0] not in self.outstanding:
                raise ChannelError("an answer to a call never made")
            self.outstanding.discard(msg[0])
            self.buffered[msg[0]] = (msg, size)
            self.buffered_bytes += size
            if self.buffered_bytes > MAX_BUFFERED:
                raise ChannelError(
                    "more than %d MiB of answers nobody asked for yet" % (MAX_BUFFERED >> 20)
                )
            if want is None:
                return True

    def wait_loaded(self, deadline):
        try:
            msg = self.reader.recv(deadline)
        except Deadline:
            self.kill("timed out while loading")
            return "the solution timed out while loading"
        except (ChannelError, CodecError) as exc:
            self.kill("broke the protocol")
            return "the solution broke the harness protocol while loading: %s" % exc
        if msg is None:
            status = self.kill("exited")
            return "the solution exited while loading (%s)" % status
        if type(msg) is list and len(msg) == 3 and msg[0] == "0" and msg[1] == "loaded":
            if self.dead is not None:  # loaded, but closed its request pipe on the way
                self.kill(self.dead)
                return "the solution closed the harness's request pipe while loading"
            if type(msg[2]) is list:
                self.names = [n for n in msg[2] if type(n) is str]
            return None
        if type(msg) is list and len(msg) == 3 and msg[0] == "0" and msg[1] == "load_error":
            self.kill("failed to load")
            return "the solution failed to load: " + _text(msg[2])
        self.kill("broke the protocol")
        return "the solution broke the harness protocol while loading"

    def call(self, name, args, kwargs, deadline):
        ids = self.announced.get(_call_key(name, args, kwargs))
        try:
            if ids:
                seq = ids.pop(0)
            else:
                # The worker answers in order, so a live call waits for what was announced
                # anyway; taking those answers first means neither side blocks on a full pipe.
                while self.outstanding and self._answer(None, deadline) is not None:
                    pass
                self.seq += 1
                seq = "%x" % self.seq  # ids are strings: the protocol has no JSON numbers
                send_frame(self.req_fd, [seq, name, args, kwargs], deadline)
                self.outstanding.add(seq)
            msg = self._answer(seq, deadline)
        except Deadline:
            self.kill("timed out")
            raise CandidateFailure("timed out") from None
        except (ChannelError, CodecError) as exc:
            self.kill("broke the protocol")
            raise CandidateFailure("the candidate broke the harness protocol: %s" % exc) from None
        except BaseException:  # interrupted mid-exchange (StepTimeout): out of sync for good
            self.kill("was interrupted")
            raise
        if msg is None:
            status = self.kill("exited")
            raise CandidateFailure("the candidate process exited (%s)" % status)
        kind, payload = msg[1], msg[2]
        if kind == "ok":
            try:
                return decode(payload)
            except (CodecError, RecursionError, MemoryError) as exc:
                raise CandidateFailure("%s returned undecodable data: %s" % (name, exc)) from None
        if kind == "raise" and type(payload) is list and len(payload) == 2:
            raise _raised(payload[0], _text(payload[1]))
        if kind in ("bad", "missing"):
            raise CandidateFailure(_text(payload))
        self.kill("broke the protocol")
        raise CandidateFailure("the candidate broke the harness protocol")

    def kill(self, why, reap=True):
        """Kill and reap the process; returns how it ended. ``reap=False``: only send the
        signal, so that it dies while the report is written and the harness exits (its
        SIGKILL cannot be blocked: the sandbox reaps it and does not count it as left behind,
        see ``reasongym.sandboxes.runner._dying``)."""
        if self.dead is None:
            self.dead = why
        if self.pid is None:  # killed before: never signal a pid that may be reused
            return self.ended
        try:
            os.kill(self.pid, signal.SIGKILL)  # first: closing its pipes would wake it up
        except OSError:
            pass
        self._close(req=True, resp=True)
        pid, self.pid = self.pid, None
        if not reap:
            self.ended = "killed"
            return self.ended
        try:
            _, status = os.waitpid(pid, 0)
        except OSError:
            self.ended = "status unknown"
        else:
            if os.WIFSIGNALED(status):
                self.ended = "killed by signal %d" % os.WTERMSIG(status)
            else:
                self.ended = "exit code %d" % os.WEXITSTATUS(status)
        return self.ended

    def _close(self, req=False, resp=False):
        for want, attr in ((req, "req_fd"), (resp, "resp_fd")):
            fd = getattr(self, attr)
            if want and fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, attr, -1)


def _call_key(name, args, kwargs):
    key = _FRAME_ENCODER.encode([name, args, kwargs])
    if '"S"' in key or '"z"' in key:  # a set's items come in its process's hash order
        key = _FRAME_ENCODER.encode([name, _sorted_sets(args), _sorted_sets(kwargs)])
    return key


def _sorted_sets(tree):
    """A wire value with every set's items in one order (by their encoding), so that the
    host's plan and the harness's call of the same set have one key."""
    if type(tree) is not list or not tree:
        return tree
    if tree[0] in ("S", "z") and len(tree) == 2 and type(tree[1]) is list:
        items = [_sorted_sets(item) for item in tree[1]]
        return [tree[0], sorted(items, key=_FRAME_ENCODER.encode)]
    return [_sorted_sets(item) for item in tree]


# Where a call runs exactly once when its statement runs (no loop, branch, short circuit,
# nested function, or assert message): only such calls are announced ahead.
_ONCE = (
    ast.Module,
    ast.Assert,
    ast.Expr,
    ast.Assign,
    ast.AnnAssign,
    ast.Compare,
    ast.BinOp,
    ast.UnaryOp,
    ast.Call,
    ast.keyword,
    ast.Tuple,
    ast.List,
    ast.Subscript,
    ast.Attribute,
    ast.Name,
    ast.Load,
    ast.Store,
    ast.Constant,
    ast.expr_context,
    ast.operator,
    ast.unaryop,
    ast.cmpop,
)


def plan_calls(steps, entry):
    """The calls the tests will make, in order: every call of a test step whose calls all
    have literal arguments and run exactly once, up to the first step that is not so (from
    there on every call goes live, so none waits behind a call announced for later)."""
    names = {"candidate", entry}
    plan = []
    for step in steps:
        try:
            tree = ast.parse(step["code"])
        except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
            return plan
        if not step["test"]:
            if any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(tree)):
                return plan  # a setup step that calls the candidate: live from here on
            continue
        try:
            calls = _step_calls(tree, names, entry)
        except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError, CodecError):
            return plan
        if calls is None or len(plan) + len(calls) > MAX_PLAN:
            return plan
        plan += calls
    return plan


def _step_calls(tree, names, entry):
    found = []
    todo = [(tree, True)]
    while todo:
        node, once = todo.pop()
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
            if not once or any(k.arg is None for k in node.keywords):
                return None
            args = [ast.literal_eval(a) for a in node.args]  # ValueError: not a literal
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
            found.append(((node.lineno, node.col_offset), [entry, encode(args), encode(kwargs)]))
            continue
        once = (
            once
            and isinstance(node, _ONCE)
            and not (isinstance(node, ast.Compare) and len(node.ops) > 1)
        )
        for field, child in ast.iter_fields(node):
            skip = isinstance(node, ast.Assert) and field == "msg"
            for item in child if isinstance(child, list) else [child]:
                if isinstance(item, ast.AST):
                    todo.append((item, once and not skip))
    refs = sum(1 for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in names)
    if refs != len(found):
        return None  # the candidate is also used some other way (f = candidate; map(...))
    return [call for _, call in sorted(found, key=lambda item: item[0])]


def _start_worker(out_fd, exec_source=None, held=False, drop_fd=None):
    """Fork a worker. With ``exec_source`` the child execs a fresh interpreter running it, so
    that nothing of the harness's memory (which by then holds the tests) survives. ``held``:
    the child waits for the harness's go (``_take_prepared``) before it loads the solution;
    for a worker forked ahead of its run (``__prepare_spare__``). ``drop_fd``: (held, forked
    as root) before that, it waits there for the user and dir to become (``_drop_to``)."""
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    pid = _fork_quiet() if held else os.fork()
    if pid == 0:  # the child: no candidate code runs before the fds are sorted out
        try:
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(out_fd, 1)
            os.dup2(out_fd, 2)
            keep = sorted({req_r, resp_w} | ({drop_fd} if drop_fd is not None else set()))
            for lo, hi in zip([2, *keep], [*keep, max(1 << 16, os.sysconf("SC_OPEN_MAX"))]):  # noqa: B905
                os.closerange(lo + 1, hi)
            if held:  # set up now, ahead of the run, then wait for the harness
                _worker_setup(reuse=True)
                _warm_up_worker()
                if drop_fd is not None and not _drop_to(drop_fd):
                    return
                if not _held(req_r):
                    return
            if exec_source is None:
                worker_main(req_r, resp_w, set_up=held)
            else:
                os.set_inheritable(req_r, True)
                os.set_inheritable(resp_w, True)
                argv = [sys.executable, "-E", "-s", "-c", exec_source, "--worker"]
                os.execv(sys.executable, argv + [str(req_r), str(resp_w)])
        finally:
            os._exit(0)
    os.close(req_r)
    os.close(resp_w)
    return Worker(pid, req_w, resp_r)


_FORK = []


def _fork_quiet():
    """``fork(2)`` without CPython's after-fork hooks in the child, for a worker forked ahead
    (the sandbox runner's ``_fork`` forks its seeds the same way; this file stands alone,
    runner or not, so it has its own copy): threading's re-initialisation and
    random's reseed cost ~0.5 ms and ~150 copied pages per fork there. They guard locks
    other threads may hold: only a single-threaded process forks so, else ``os.fork()``.
    The child gets threading's record of its thread id right, and freezes the garbage
    collector's inherited objects (a collection walking them would copy their pages)."""
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() != 1:
        return os.fork()
    if not _FORK:
        try:
            import ctypes

            fork = ctypes.PyDLL(None, use_errno=True).fork  # PyDLL: holds the GIL
            fork.restype = ctypes.c_int
            _FORK.append((fork, ctypes.get_errno))
        except Exception:  # noqa: BLE001 - no ctypes: the ordinary fork
            _FORK.append(None)
    if _FORK[0] is None:
        return os.fork()
    fork, get_errno = _FORK[0]
    pid = fork()
    if pid < 0:
        err = get_errno()
        raise OSError(err, os.strerror(err))
    if pid == 0:
        import gc

        if threading is not None:
            try:
                threading.main_thread()._set_native_id()
            except Exception:  # noqa: BLE001 - only a record
                pass
        gc.freeze()
    return pid


# Forked ahead, a process waits with nothing to do; a process fresh from a fork copies each
# page it first writes (~2-4 us each here, hundreds per run). So the held worker and the seed
# go once through what their run will do, on constants of this module's, before any of the
# run exists: those copies are then made while they wait, not on the run's clock.
_WARM_SOLUTION = "def _f(a, b=2):\n    return [x * b for x in a if x] or {'k': (a, b)}\n"
_WARM_STEP = "x = [1, 2.5, 'a']\nassert x == [1, 2.5, 'a'], 'no'\n"
_WARM_SPEC = '{"steps": [{"name": "t", "test": true, "code": "assert 1"}], "nonce": "n"}'


def _warm_up_worker():
    try:
        ns = {"__name__": "__warm__", "__builtins__": builtins}
        exec(compile(_WARM_SOLUTION, "solution.py", "exec"), ns)
        call = ["0", "_f", encode([[1.5, 2, "s"]]), encode({"b": 3})]
        _, name, args, kwargs = loads(_FRAME_ENCODER.encode(call).encode("ascii"))
        _FRAME_ENCODER.encode(["0"] + _serve_one(ns, name, args, kwargs)).encode("ascii")
    except Exception:  # noqa: BLE001 - only an optimisation
        pass


def _warm_up_harness():
    try:
        json.loads(_WARM_SPEC)
        exec(compile(_WARM_STEP, "<warm>", "exec"), {"__name__": "__main__"})
        decode(loads(_FRAME_ENCODER.encode(encode([1.5, "s", (1,), {2: None}])).encode("ascii")))
        json.dumps({"error": None, "results": [{"name": "t", "passed": True}]}, ensure_ascii=True)
    except Exception:  # noqa: BLE001 - only an optimisation
        pass


def _drop_to(fd):
    """(In a worker forked ahead as root, doing nothing until now.) Become the user, in the
    dir, that the spare names once it is activated (``__activate_spare__``), with no other
    groups and so no capabilities. False: no word came, or it did not take effect."""
    try:
        data = b""
        while True:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
        os.close(fd)
        uid, gid, cwd = data.decode("utf-8").split(" ", 2)
        uid, gid = int(uid), int(gid)
        if uid == 0 or gid == 0:
            return False
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid):
            return False
        # The uid switch made it non-dumpable; a worker forked by the spare itself is not.
        _libc().prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        os.chdir(cwd)
    except Exception:  # noqa: BLE001 - then it never runs the candidate
        return False
    return True


def _held(req_fd):
    """(In a worker forked ahead.) Wait for the harness's go: one byte, sent once the harness
    has given this process the run's resource limits (``prlimit``). False: no go came."""
    try:
        return os.read(req_fd, 1) == b"g"
    except OSError:
        return False


# --- a worker forked ahead of the run (the sandbox's spare calls the hooks) ----------------
# The Docker fork server forks each run's process ahead of its request (a "spare", forked as
# a root-owned "seed" while the run before it may still go on). For a spare whose run will
# likely be this harness, the seed calls ``__prepare_spare__``: the worker is forked then,
# before the run's request exists (so it never held the tests either), and waits as root,
# doing nothing, out of the running program's reach. Once the spare is activated (the run
# before is over, the spare is the sandbox user in the wiped work dir) it calls
# ``__activate_spare__``, and the worker drops to that user and dir; it then waits held
# until the harness, made non-dumpable, releases it. A run whose ``main.py`` does not begin
# with ``SPARE_MARKER`` cancels it before it starts (see reasongym.sandboxes.runner).

SPARE_MARKER = b"# reasongym code harness\n"  # the first line of the harness's loader
__spare_marker__ = SPARE_MARKER
# [(worker, its scratch fd, (the environment, the resource limits) it was forked with, the
# write end of its drop pipe or -1)] forked ahead in this process, not yet used
_PREPARED = []


def __prepare_spare__():
    out_fd = _scratch_fd()
    drop = os.pipe() if os.geteuid() == 0 else None  # as root: the worker waits to drop
    try:
        worker = _start_worker(out_fd, held=True, drop_fd=drop[0] if drop else None)
    except BaseException:
        for fd in (out_fd, *(drop or ())):
            os.close(fd)
        raise
    if drop:
        os.close(drop[0])
    _PREPARED.append((worker, out_fd, (_environ(), _own_limits()), drop[1] if drop else -1))
    _warm_up_harness()  # after the fork: the worker's copy of these pages is its own affair
    return _cancel_prepared


def __activate_spare__():
    """(In the spare, as the run's user in its work dir.) Let the workers forked ahead as
    root become this user, in this dir; and work out which import dirs this user cannot
    write (``_safe_sys_path``) now, before the run, rather than on its clock."""
    word = ("%d %d %s" % (os.getuid(), os.getgid(), os.getcwd())).encode("utf-8")
    try:
        _SAFE_PATH[:] = [(os.getuid(), list(sys.path), _unwritable(sys.path))]
    except Exception:  # noqa: BLE001 - only an optimisation: the harness works it out
        del _SAFE_PATH[:]
    for i, (worker, out_fd, env, drop_w) in enumerate(_PREPARED):
        if drop_w >= 0:
            try:
                os.write(drop_w, word)
            except OSError:
                pass
            os.close(drop_w)
            _PREPARED[i] = (worker, out_fd, env, -1)


def _environ():
    """This process's environment, to compare: the raw bytes mapping under ``os.environ``
    where there is one (copied in C; decoding every entry would touch, and in a fresh fork
    copy, far more pages), else the decoded one."""
    data = getattr(os.environ, "_data", None)
    return dict(data) if isinstance(data, dict) else dict(os.environ)


def _cancel_prepared():
    while _PREPARED:
        worker, out_fd, _, drop_w = _PREPARED.pop()
        if drop_w >= 0:
            os.close(drop_w)  # a worker still waiting to drop sees the end, and exits
        worker.kill("not needed")
        os.close(out_fd)


def _take_prepared():
    """The worker forked ahead, released with this process's resource limits, and its
    scratch fd; None when there is none, or it could not be given them, or its environment
    (inherited when it was forked) is not this process's."""
    if not _PREPARED:
        return None
    worker, out_fd, (env, limits), drop_w = _PREPARED.pop()
    try:
        if drop_w >= 0:
            os.close(drop_w)  # never activated: it exits instead of dropping
            raise OSError("the worker forked ahead was never given its user")
        if env != _environ():
            raise OSError("the environment changed since the worker was forked")
        import resource

        # The worker has the limits it was forked with (held, it changes nothing; nobody
        # else may): it gets each one this process has since changed (the run's).
        now = _own_limits()
        for name, was, want in zip(_rlimit_names(resource), limits, now):  # noqa: B905
            if want != was:
                resource.prlimit(worker.pid, getattr(resource, name), want)
        if os.write(worker.req_fd, b"g") != 1:
            raise OSError("short write")
    except (OSError, ValueError):
        worker.kill("could not be released")
        os.close(out_fd)
        return None
    return worker, out_fd


class Pool:
    """The current worker, replaced by a fresh one when it dies (while time remains)."""

    MAX_RESTARTS = 32

    def __init__(self, first, out_fd, source, entry, clock):
        self.worker, self.out_fd, self.source, self.entry, self.clock = (
            first,
            out_fd,
            source,
            entry,
            clock,
        )
        self.restarts = 0
        self.broken = None  # why no worker can be started any more
        self.limits = _own_limits()  # the candidate (same uid) could prlimit the harness

    def get(self, deadline):
        if self.worker.dead is None:
            return self.worker
        why = self.worker.dead
        if self.broken is not None:
            raise CandidateFailure("not run: " + self.broken)
        if self.source is None or self.restarts >= self.MAX_RESTARTS:
            raise CandidateFailure("not run: the candidate process %s earlier" % why)
        self.restarts += 1
        if _own_limits() != self.limits:
            self.broken = "the candidate process %s earlier and changed the harness's limits" % why
            raise CandidateFailure("not run: " + self.broken)
        try:
            self.worker = _start_worker(self.out_fd, self.source)
        except Exception as exc:  # noqa: BLE001 - no fork or pipe (EAGAIN, EMFILE, ENOMEM)
            self.broken = "the candidate process %s earlier; restarting it failed: %s" % (
                why,
                _short(exc),
            )
            raise CandidateFailure("not run: " + self.broken) from None
        problem = self.worker.wait_loaded(deadline)
        if problem:
            raise CandidateFailure(
                "not run: the candidate process %s earlier; restarting it: %s" % (why, problem)
            )
        return self.worker


class Proxy:
    """What the tests call instead of the candidate's function."""

    def __init__(self, pool, name, clock):
        self._pool, self._name, self._clock = pool, name, clock

    def __call__(self, *args, **kwargs):
        try:
            wire_args, wire_kwargs = encode(list(args)), encode(dict(kwargs))
        except (CodecError, RecursionError) as exc:
            raise CandidateFailure("cannot send the arguments to the candidate: %s" % exc) from None
        deadline = self._clock.call_deadline()
        try:
            return self._pool.get(deadline).call(self._name, wire_args, wire_kwargs, deadline)
        except (CandidateRaised, CandidateFailure, StepTimeout):
            raise
        except BaseException as exc:  # noqa: BLE001 - only the candidate's own errors are Exceptions
            # (an OSError of the harness, a MemoryError under a lowered limit): a test's
            # `except Exception` must not take a harness failure for the candidate's answer.
            raise CandidateFailure("the harness could not run the call: %s" % _short(exc)) from None

    def __repr__(self):
        return "<candidate %s>" % self._name


class StepTimeout(BaseException):
    pass


def _own_limits():
    import resource

    return [resource.getrlimit(getattr(resource, n)) for n in _rlimit_names(resource)]


_RLIMIT_NAMES = []


def _rlimit_names(resource):
    if not _RLIMIT_NAMES:
        _RLIMIT_NAMES.extend(sorted(n for n in dir(resource) if n.startswith("RLIMIT_")))
    return _RLIMIT_NAMES


class Clock:
    """The run's and the current step's deadlines; SIGALRM backs them up for test code that
    is slow on its own (e.g. on a huge value the candidate returned)."""

    def __init__(self, run_deadline):
        self.run_deadline = run_deadline
        self.step_deadline = run_deadline
        self.active = False
        signal.signal(signal.SIGALRM, self._alarm)

    def _alarm(self, signum, frame):
        if self.active:  # a stray SIGALRM from the candidate outside a step changes nothing
            raise StepTimeout()

    def call_deadline(self):
        return min(self.step_deadline, self.run_deadline)

    def start(self, seconds):
        self.step_deadline = min(time.monotonic() + seconds, self.run_deadline)
        self.active = True
        signal.setitimer(
            signal.ITIMER_REAL, max(0.001, self.step_deadline - time.monotonic()) + 0.05
        )

    def stop(self):
        self.active = False
        signal.setitimer(signal.ITIMER_REAL, 0)


def _short(exc):
    try:
        text = "%s: %s" % (type(exc).__name__, exc) if str(exc) else type(exc).__name__
    except BaseException:  # noqa: BLE001
        text = type(exc).__name__
    return text[:MAX_TEXT]


def _run_code(code, name, ns, clock, seconds):
    """None when ``code`` ran to the end, else why not."""
    try:
        clock.start(seconds)
        try:
            exec(code if type(code) is CodeType else compile(code, name, "exec"), ns)
        finally:
            clock.stop()
        return None
    except StepTimeout:
        return "timed out"
    except Deadline:
        return "timed out"
    except AssertionError as exc:
        detail = _short(exc) if str(exc) else ""
        if detail.startswith("AssertionError: "):
            detail = detail[len("AssertionError: ") :]
        if isinstance(exc, CandidateRaised):
            return "the candidate raised AssertionError: %s" % detail
        return "assertion failed" + (": " + detail if detail else "")
    except CandidateFailure as exc:
        return _text(str(exc)) or "the candidate failed"
    except CandidateRaised as exc:
        return "the candidate raised " + _short(exc)
    except BaseException as exc:  # noqa: BLE001 - every other way a test can fail
        return _short(exc)


_LIBC = []  # the C library, opened once (where this module is warm: once per container)


def _libc():
    if not _LIBC:
        import ctypes

        _LIBC.append(ctypes.CDLL(None, use_errno=True))
    return _LIBC[0]


def _make_non_dumpable():
    """None on success, else why it failed."""
    try:
        libc = _libc()
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        if libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0:
            return "prctl(PR_SET_DUMPABLE, 0) did not take effect"
    except Exception as exc:  # noqa: BLE001
        return "prctl failed: %r" % exc
    return None


_SAFE_PATH = []  # [(uid, sys.path, its dirs that uid cannot write)], from __activate_spare__


def _safe_sys_path():
    """Keep only import dirs that the sandbox user cannot write (nor create). Worked out
    when the spare was activated, as this user, if sys.path is the same: no process of
    this user ran since (the run before is gone), and nothing else changes those dirs."""
    if _SAFE_PATH and _SAFE_PATH[0][:2] == (os.getuid(), sys.path):
        sys.path[:] = _SAFE_PATH.pop()[2]
        return
    sys.path[:] = _unwritable(sys.path)


def _unwritable(paths):
    kept = []
    for entry in paths:
        if not entry or not os.path.isabs(entry):
            continue
        probe = entry
        while not os.path.exists(probe):
            parent = os.path.dirname(probe)
            if parent == probe:
                break
            probe = parent
        if not os.access(probe, os.W_OK):
            kept.append(entry)
    return kept


def _preload(names):
    """Import the standard-library modules the task's prompt uses (named by the host in the
    loader, before any candidate code runs), so that the worker inherits them and they are
    not imported twice."""
    for name in list(names)[:32]:
        if type(name) is str and name.isidentifier():
            try:
                __import__(name)
            except Exception:  # noqa: BLE001 - only an optimisation
                pass


def _scratch_fd():
    """An unlinked file for the worker's stdout/stderr."""
    for d in ("/tmp", os.getcwd()):
        try:
            return os.open(d, os.O_TMPFILE | os.O_RDWR, 0o600)
        except (AttributeError, OSError):
            pass
    import tempfile

    fd, path = tempfile.mkstemp()
    os.unlink(path)
    return fd


def _read_stdin():
    chunks = []
    while True:
        chunk = os.read(0, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _tail(fd):
    try:
        size = os.lseek(fd, 0, os.SEEK_END)
        os.lseek(fd, max(0, size - 4 * STDOUT_TAIL), os.SEEK_SET)
        return os.read(fd, 4 * STDOUT_TAIL).decode("utf-8", "replace")[-STDOUT_TAIL:]
    except OSError:
        return ""


def harness_main(own_source=None, preload=()):
    """The harness process. ``own_source``: this file's text (read by the loader before any
    candidate code runs), for restarting a dead worker in a fresh interpreter; None: no
    restarts, a dead worker fails the remaining tests. ``preload``: modules to import first."""
    started = time.monotonic()
    # The candidate has this uid: its kill(harness, SIGINT) must not raise KeyboardInterrupt
    # here (the worker puts SIGINT back to the default before it loads anything).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    problem = _make_non_dumpable()
    _safe_sys_path()
    _preload(preload)
    prepared = None if problem else _take_prepared()  # released only once non-dumpable
    _cancel_prepared()
    if prepared is not None:
        first, out_fd = prepared
    else:
        out_fd = _scratch_fd()
        first = None if problem else _start_worker(out_fd)
    # Only now, with the candidate's process already apart, do the tests arrive.
    spec = json.loads(_read_stdin().decode("utf-8"))
    names = [s["name"] for s in spec["steps"] if s["test"]]
    results = []
    if problem:
        error = "the harness could not protect itself (%s); refusing to run the candidate" % problem
    else:
        error = _run(spec, first, out_fd, own_source, started, results)
    for name in names[len(results) :]:
        results.append({"name": name, "passed": False, "error": error or "not run"})
    report = {"error": error, "results": results, "stdout": _tail(out_fd)}
    budget = max(60, 40000 // max(1, len(names)))
    while True:  # the report must fit the sandbox's output cap (64 KiB by default)
        for r in results:
            if r["error"] is not None:
                r["error"] = r["error"][:budget]
        line = "\n" + spec["nonce"] + json.dumps(report, ensure_ascii=True) + "\n"
        if len(line) <= REPORT_BYTES or budget <= 8:
            break
        budget //= 2
        report["stdout"] = report["stdout"][-budget:]
        if report["error"] is not None:
            report["error"] = report["error"][: max(budget, 200)]
    data = line.encode("ascii")
    while data:
        data = data[os.write(1, data) :]


def compile_task(prompt, steps):
    """``(prompt code or None, [code or None per step])``, compiled as the harness runs them
    (asserts kept, no inherited ``__future__`` flags). A step that does not compile is None:
    it is compiled again when it runs, and fails with the compiler's message. The host
    (``code_runner.compiled_task``) calls this too, and ships the result marshalled."""
    prompt_code = None
    if prompt:  # a prompt that is a bare signature + docstring compiles with a body added
        for text in (prompt, prompt.rstrip() + "\n    pass\n"):
            try:
                prompt_code = compile(text, "prompt", "exec", dont_inherit=True, optimize=0)
                break
            except Exception:  # noqa: BLE001 - SyntaxError, ValueError (NUL), RecursionError
                continue
    codes = []
    for step in steps:
        try:
            codes.append(compile(step["code"], step["name"], "exec", dont_inherit=True, optimize=0))
        except Exception:  # noqa: BLE001
            codes.append(None)
    return prompt_code, codes


def code_tag():
    """What marshalled code must have been compiled by to load here."""
    magic = sys.modules["_frozen_importlib_external"].MAGIC_NUMBER
    return "%s %s" % (sys.implementation.cache_tag, magic.hex())


def _task_code(spec):
    """The task's code objects: the host's (``spec["compiled"]``, when compiled by this very
    interpreter version), else compiled here."""
    shipped = spec.get("compiled")
    if type(shipped) is dict and shipped.get("tag") == code_tag():
        try:
            import marshal

            prompt_code, codes = marshal.loads(base64.b64decode(shipped["code"]))
            if len(codes) == len(spec["steps"]):
                return prompt_code, codes
        except Exception:  # noqa: BLE001 - only an optimisation
            pass
    return compile_task(spec.get("prompt") or "", spec["steps"])


def _run(spec, first, out_fd, own_source, started, results):
    """Run the steps, appending one result per test to ``results``; returns a run-level error."""
    step_s = float(spec["step_timeout_s"])
    run_deadline = started + float(spec["budget_s"])
    clock = Clock(run_deadline)
    entry = spec.get("entry_point") or ""
    ns = {"__name__": "__main__"}
    prompt_code, step_codes = _task_code(spec)
    plan = spec.get("plan")  # the host plans the calls (code_runner.plan_for) ...
    if plan is None:  # ... else do it here, while the worker loads
        plan = plan_calls(spec["steps"], entry) if entry else []
    # A batch that fits the pipe goes out now: the worker answers it as soon as it has loaded,
    # with no wake-up of the harness in between; a bigger one waits until it has loaded.
    early = bool(plan) and first.announce(
        plan, min(time.monotonic() + step_s, run_deadline), EARLY_BATCH
    )
    if prompt_code is not None:  # the task's helpers (e.g. encode_cyclic), from its own text
        _run_code(prompt_code, "prompt", ns, clock, step_s)
    load_deadline = min(time.monotonic() + step_s, run_deadline)
    error = first.wait_loaded(load_deadline)
    if error is None and entry and entry not in first.names:
        error = "the solution does not define a function named %r" % entry
    if plan and error is None and not early:
        first.announce(plan, load_deadline)
    if error is not None:
        first.kill("done")
        return error
    pool = Pool(first, out_fd, own_source, entry, clock)
    proxy = Proxy(pool, entry, clock)
    if entry:
        ns[entry] = proxy
    ns["candidate"] = proxy
    broken = None
    for step, code in zip(spec["steps"], step_codes):  # noqa: B905 - same length; 3.8+
        if broken is None and time.monotonic() >= run_deadline:
            broken = "not run: the run's time budget (%.1f s) was used up" % float(spec["budget_s"])
        if broken is not None:
            if step["test"]:
                results.append({"name": step["name"], "passed": False, "error": broken})
            continue
        why = _run_code(step["code"] if code is None else code, step["name"], ns, clock, step_s)
        if step["test"]:
            results.append({"name": step["name"], "passed": why is None, "error": why})
        elif why is not None:
            broken = "setup step %s failed: %s" % (step["name"], why)
    pool.worker.kill("done", reap=False)  # it dies while the report is made
    return None


if "ctypes" in sys.modules:  # e.g. the sandbox's runner, which preloads it: open libc now
    try:
        _libc()
    except Exception:  # noqa: BLE001 - only an optimisation
        pass

if __name__ == "__main__" and sys.argv[1:2] == ["--worker"]:  # a restarted worker
    worker_main(int(sys.argv[2]), int(sys.argv[3]))
    os._exit(0)
