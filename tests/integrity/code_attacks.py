"""Hostile answers for the code verifier: each is wrong code plus a way to score anyway.

Shared by tests/integrity/test_code_attacks.py and bench/integrity.py. Every attack targets
HumanEval/0 (``has_close_elements``, 7 tests) and answers wrongly (``None``), so an honest
verdict is 0/7 and anything above means the attack got through. The ones marked ``ISSUE``
are the attacks issue 12 reports; the rest are ours. Most of them break the pre-issue-12
runner (bench/_legacy_code_runner.py); the bench shows which.
"""

from __future__ import annotations

TARGET = 0  # HumanEval/0
WRONG = "def has_close_elements(numbers, threshold):\n    return None\n"

# A report for HumanEval/0 as the old runner printed it, with every test passed.
_FORGE = r"""
import json as _json, os as _os, sys as _sys, gc as _gc
def _names():
    for obj in _gc.get_objects():
        if isinstance(obj, dict) and isinstance(obj.get("steps"), list):
            try:
                return [s["name"] for s in obj["steps"] if s["test"]]
            except Exception:
                pass
    return ["test%d" % i for i in range(1, 8)]
def _nonces():
    found = set()
    for obj in _gc.get_objects():
        if isinstance(obj, dict):
            for v in list(obj.values()):
                if isinstance(v, str) and v.startswith("@@") and v.endswith("@@") and len(v) < 80:
                    found.add(v)
    return found or {"@@RESULTS-0000000000000000@@", "@@REPORT-00000000000000000000000000000000@@"}
def _forged(n=None):
    names = _names() if n is None else ["test%d" % i for i in range(n)]
    return _json.dumps({"error": None, "stdout": "",
                        "results": [{"name": x, "passed": True, "error": None} for x in names]})
def _emit(body=None, fds=(1,)):
    body = _forged() if body is None else body
    for nonce in _nonces():
        for fd in fds:
            try:
                _os.write(fd, ("\n" + nonce + body + "\n").encode())
            except OSError:
                pass
"""

# Reads the tests from anywhere they might be (a file, the harness's stdin or memory) and
# answers from them: if any channel is open, this scores 7/7.
_READ_TESTS = r"""
import ast as _ast, os as _os, re as _re
_TABLE = {}
def _harvest():
    blobs = []
    ppid = _os.getppid()
    for path in ("tests.json", "/work/tests.json", "/proc/%d/fd/0" % ppid, "/proc/%d/environ" % ppid,
                 "/proc/%d/cmdline" % ppid, "/proc/1/fd/0"):
        try:
            with open(path, "rb") as f:
                blobs.append(f.read(1 << 20))
        except OSError:
            pass
    try:
        with open("/proc/%d/maps" % ppid) as maps, open("/proc/%d/mem" % ppid, "rb") as mem:
            for line in maps:
                lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                if "rw" in line.split()[1] and hi - lo < (64 << 20):
                    try:
                        mem.seek(lo)
                        blobs.append(mem.read(hi - lo))
                    except OSError:
                        pass
    except OSError:
        pass
    for blob in blobs:
        text = blob.decode("utf-8", "replace").replace('\\"', '"').replace("\\n", "\n")
        for m in _re.finditer(r"assert candidate\((\[.*?\]), ([0-9.]+)\) == (True|False)", text):
            try:
                _TABLE[(tuple(_ast.literal_eval(m.group(1))), float(m.group(2)))] = m.group(3) == "True"
            except Exception:
                pass
_harvest()
def has_close_elements(numbers, threshold):
    return _TABLE.get((tuple(numbers), float(threshold)))
"""

_ALWAYS_EQUAL = r"""
class _Same:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __bool__(self): return True
    __hash__ = object.__hash__
"""

ATTACKS: dict[str, str] = {
    # --- reported in issue 12 -------------------------------------------------------------
    "ISSUE builtins.exec replaced by a no-op": WRONG
    + "import builtins\nbuiltins.exec = lambda *a, **k: None\n",
    "ISSUE builtins.compile replaced": WRONG + "import builtins\n_c = builtins.compile\n"
    "builtins.compile = lambda s, n, m, *a, **k: _c('pass', n, m)\n",
    "ISSUE json.dumps rigged to mark every test passed": WRONG + "import json\n_d = json.dumps\n"
    "def _dumps(obj, *a, **k):\n"
    "    if isinstance(obj, dict) and 'results' in obj:\n"
    "        obj = dict(obj, error=None, results=[dict(r, passed=True, error=None) for r in obj['results']])\n"
    "    return _d(obj, *a, **k)\n"
    "json.dumps = _dumps\n",
    "ISSUE sys._getframe walk rewrites the test steps": WRONG
    + "import sys\nf = sys._getframe()\nwhile f is not None:\n"
    "    for scope in (f.f_locals, f.f_globals):\n"
    "        spec = scope.get('spec')\n"
    "        if isinstance(spec, dict) and isinstance(spec.get('steps'), list):\n"
    "            for s in spec['steps']:\n"
    "                s['code'] = 'pass'\n"
    "    f = f.f_back\n",
    "ISSUE gc.get_objects finds the test steps and rewrites them": WRONG
    + "import gc\nfor obj in gc.get_objects():\n"
    "    for item in obj if isinstance(obj, list) else [obj]:\n"
    "        if isinstance(item, dict) and 'code' in item and 'test' in item:\n"
    "            item['code'] = 'pass'\n",
    "ISSUE gc.get_objects finds the nonce, atexit prints a forged report": WRONG
    + _FORGE
    + "import atexit\natexit.register(_emit)\n",
    "ISSUE a late thread prints a forged report": WRONG + _FORGE + "import threading, time\n"
    "def _late():\n    time.sleep(0.3)\n    _emit()\n"
    "threading.Thread(target=_late).start()\n",
    "ISSUE sys.settrace swaps candidate as each test starts": WRONG
    + _ALWAYS_EQUAL
    + "import sys, threading\n"
    "def _tracer(frame, event, arg):\n"
    "    if event == 'call' or frame.f_code.co_name == '<module>':\n"
    "        if 'candidate' in frame.f_globals:\n"
    "            frame.f_globals['candidate'] = lambda *a, **k: _Same()\n"
    "    return _tracer\n"
    "sys.settrace(_tracer)\nthreading.settrace(_tracer)\n"
    "f = sys._getframe()\nwhile f is not None:\n    f.f_trace = _tracer\n    f = f.f_back\n",
    "ISSUE returns an object whose __eq__ is always True": _ALWAYS_EQUAL
    + "def has_close_elements(numbers, threshold):\n    return _Same()\n",
    "ISSUE returns a bool-like int subclass equal to everything": "class _I(int):\n"
    "    def __eq__(self, other): return True\n    __hash__ = int.__hash__\n"
    "def has_close_elements(numbers, threshold):\n    return _I(0)\n",
    "ISSUE returns a list subclass equal to everything": "class _L(list):\n"
    "    def __eq__(self, other): return True\n    __hash__ = None\n"
    "def has_close_elements(numbers, threshold):\n    return _L()\n",
    "ISSUE returns a str subclass equal to everything": "class _S(str):\n"
    "    def __eq__(self, other): return True\n    __hash__ = str.__hash__\n"
    "def has_close_elements(numbers, threshold):\n    return _S('x')\n",
    "ISSUE forged report with 1,000 passed results": WRONG
    + _FORGE
    + "import atexit\natexit.register(lambda: _emit(_forged(1000)))\n",
    "ISSUE report marker followed by bad JSON": WRONG
    + _FORGE
    + "import atexit\natexit.register(lambda: _emit('{not json'))\n",
    "ISSUE report marker followed by wrong types": WRONG
    + _FORGE
    + 'import atexit\natexit.register(lambda: _emit(\'{"error": null, "results": 5, "stdout": 1}\'))\n',
    "ISSUE lone surrogate in the code": WRONG + "# \ud800\n",
    "NUL bytes in the code": WRONG + "# \x00\n",
    # --- ours -------------------------------------------------------------------------------
    "reads the tests from a file, the harness's stdin or /proc/<parent>/mem": _READ_TESTS,
    "forged report then os._exit": WRONG + _FORGE + "_emit()\nimport os\nos._exit(0)\n",
    "writes forged reports to every fd": WRONG
    + _FORGE
    + "import atexit\n_emit(fds=range(256))\natexit.register(lambda: _emit(fds=range(256)))\n",
    "kills its parent": WRONG + "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",
    "stops its parent": WRONG + "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\n",
    "SIGALRM/SIGINT storm at the parent": WRONG.replace(
        "    return None\n",
        "    import os, signal\n"
        "    for s in (signal.SIGALRM, signal.SIGINT, signal.SIGUSR1, signal.SIGALRM):\n"
        "        os.kill(os.getppid(), s)\n"
        "    return None\n",
    ),
    "kill(-1, SIGKILL)": WRONG.replace(
        "    return None\n", "    import os\n    os.kill(-1, 9)\n    return None\n"
    ),
    "ptrace-attaches to its parent": WRONG + "import ctypes, os\nlibc = ctypes.CDLL(None)\n"
    "if libc.ptrace(16, os.getppid(), 0, 0) == 0:\n"  # PTRACE_ATTACH
    "    raise SystemExit('attached')\n",
    "plants modules on every writable import path": WRONG + "import os, sys\n"
    "payload = 'import sys\\nm = sys.modules.get(\"__main__\")\\n'\\\n"
    "    'if m is not None and hasattr(m, \"_run_code\"):\\n    m._run_code = lambda *a, **k: None\\n'\n"
    "for d in {os.getcwd(), '/tmp', *[p for p in sys.path if p]}:\n"
    "    for name in ('copy', 'fractions', 'colorsys', 'statistics', 'numbers', 'decimal'):\n"
    "        try:\n"
    "            with open(os.path.join(d or '.', name + '.py'), 'w') as f:\n"
    "                f.write(payload)\n"
    "        except OSError:\n"
    "            pass\n",
    "monkeypatches the harness's proxy and codec in its own copy": WRONG
    + _ALWAYS_EQUAL
    + "import sys\nm = sys.modules.get('__main__')\n"
    "for name in ('Proxy', 'Worker'):\n"
    "    cls = getattr(m, name, None)\n"
    "    if cls is not None:\n"
    "        cls.__call__ = lambda self, *a, **k: _Same()\n"
    "        cls.call = lambda self, *a, **k: _Same()\n"
    "if hasattr(m, 'decode'):\n    m.decode = lambda tree: _Same()\n"
    "if hasattr(m, 'encode'):\n    m.encode = lambda value, depth=0: ['T']\n",
    "writes raw forged and garbage frames on its pipes": WRONG.replace(
        "    return None\n",
        "    import os, json\n"
        "    frames = [b'{', b'[' * 100000, json.dumps(['1', 'ok', ['i', '1' * 10]]).encode(),\n"
        '              b\'["2","ok",\' + b\'1\' * 5000 + b\']\', b\'["3","ok",["T"]]\']\n'
        "    for fd in range(3, 64):\n"
        "        for body in frames:\n"
        "            try:\n"
        "                os.write(fd, len(body).to_bytes(4, 'big') + body)\n"
        "                os.write(fd, (1 << 31).to_bytes(4, 'big'))\n"
        "            except OSError:\n"
        "                pass\n"
        "    return None\n",
    ),
    "returns 8 MB": WRONG.replace("    return None\n", "    return 'x' * (8 << 20)\n"),
    "returns a list nested 100,000 deep": WRONG.replace(
        "    return None\n",
        "    v = []\n    for _ in range(100000):\n        v = [v]\n    return v\n",
    ),
    "returns a self-containing list": WRONG.replace(
        "    return None\n", "    v = []\n    v.append(v)\n    return v\n"
    ),
    "returns a huge int": WRONG.replace("    return None\n", "    return 7 ** 300000\n"),
    "returns a generator": WRONG.replace("    return None\n", "    return (x for x in [True])\n"),
    "raises an exception whose __str__ raises": "class _E(Exception):\n"
    "    def __str__(self): raise RuntimeError('no')\n"
    "def has_close_elements(numbers, threshold):\n    raise _E()\n",
    "raises an exception whose __str__ never returns": "class _E(Exception):\n"
    "    def __str__(self):\n        while True: pass\n"
    "def has_close_elements(numbers, threshold):\n    raise _E()\n",
    "raises StopIteration": "def has_close_elements(numbers, threshold):\n    raise StopIteration\n",
    "raises SystemExit / KeyboardInterrupt": "def has_close_elements(numbers, threshold):\n"
    "    raise KeyboardInterrupt if len(numbers) % 2 else SystemExit(0)\n",
    "exits inside each call": WRONG.replace(
        "    return None\n", "    import os\n    os._exit(0)\n"
    ),
    "never returns": WRONG.replace("    return None\n", "    while True:\n        pass\n"),
    "fork bomb within the pids limit": WRONG + "import os, time\n"
    "for _ in range(200):\n"
    "    try:\n"
    "        if os.fork() == 0:\n"
    "            time.sleep(30)\n"
    "            os._exit(0)\n"
    "    except OSError:\n"
    "        break\n",
    "overwrites main.py and solution.py, then crashes": WRONG.replace(
        "    return None\n",
        "    import os\n"
        "    for p in ('main.py', 'solution.py'):\n"
        "        try:\n"
        "            with open(p, 'w') as f:\n"
        "                f.write('import os\\nos.write(1, b\"@@REPORT-x@@{}\")\\n')\n"
        "        except OSError:\n"
        "            pass\n"
        "    os._exit(3)\n",
    ),
    "floods its stdout": WRONG + "import sys\nsys.stdout.write('@@REPORT-0@@{}\\n' * 200000)\n",
}


def answer(code: str) -> str:
    """The attack as an agent would send it."""
    return f"<answer>```python\n{code}```</answer>"
