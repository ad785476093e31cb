"""A bounded YAML loader for files that may come from a stranger.

PyYAML's safe loader builds no arbitrary objects, but it still trusts the size of what it
builds: a 1 KB file of nested anchors and aliases ("billion laughs") expands to billions of
nodes once anything walks the result, and a 50 MB file takes a minute to parse. This loader
bounds everything *before* a Python object is built:

1. the file's size (checked on ``stat`` and again on the bytes read);
2. the composed node graph, walked once: its depth, and its size with every alias expanded
   (computed per node and memoised, so counting a billion-laughs graph is cheap);
3. anchors that refer to themselves (recursive structures) are refused.

Only then are the nodes turned into plain Python data (dict, list, str, int, float, bool, None).
Every refusal is a :class:`reasongym.ConfigError` naming the file and the limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reasongym.errors import ConfigError

# libyaml's loader is ~10x faster than the pure-Python one (import time matters here)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Largest environment file accepted, in bytes (an env file is a few hundred bytes).
MAX_FILE_BYTES = 256 * 1024
#: Most YAML nodes (scalars, sequences, mappings) after expanding every alias.
MAX_NODES = 20_000
#: Deepest nesting of sequences and mappings.
MAX_DEPTH = 32


def _check_graph(root: yaml.Node, file: str, max_nodes: int, max_depth: int) -> None:
    """Raise ConfigError if the alias-expanded graph under ``root`` is too big, too deep or
    cyclic. Iterative (no recursion limit to hit); each node's expanded size is memoised."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    # stack of (node, depth, children iterator or None)
    stack: list[tuple[yaml.Node, int, list[yaml.Node] | None]] = [(root, 1, None)]
    while stack:
        node, depth, children = stack.pop()
        key = id(node)
        if children is None:
            if key in size:
                continue
            if key in on_path:
                raise ConfigError(
                    file, [("", "an anchor refers to itself (recursive YAML is not accepted)")]
                )
            if depth > max_depth:
                raise ConfigError(file, [("", f"nested deeper than {max_depth} levels")])
            if isinstance(node, yaml.ScalarNode):
                size[key] = 1
                continue
            if isinstance(node, yaml.SequenceNode):
                kids = list(node.value)
            else:  # MappingNode
                kids = [part for pair in node.value for part in pair]
            on_path.add(key)
            stack.append((node, depth, kids))
            stack.extend((kid, depth + 1, None) for kid in kids if id(kid) not in size)
            continue
        on_path.discard(key)
        total = 1 + sum(size[id(kid)] for kid in children)
        if total > max_nodes:
            raise ConfigError(
                file,
                [
                    (
                        "",
                        f"expands to more than {max_nodes} YAML nodes (anchors/aliases included); "
                        "an environment file should be small",
                    )
                ],
            )
        size[key] = total


def load_yaml_text(
    text: str,
    file: str,
    *,
    max_nodes: int = MAX_NODES,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Parse YAML text with the node/depth/alias bounds above; returns plain data."""
    loader = _SAFE_LOADER(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise ConfigError(file, [("", f"not valid YAML: {exc}")]) from None
        if node is None:
            return None
        _check_graph(node, file, max_nodes, max_depth)
        try:
            return loader.construct_document(node)
        except yaml.YAMLError as exc:
            raise ConfigError(file, [("", f"not valid YAML: {exc}")]) from None
        except (ValueError, OverflowError, RecursionError, MemoryError) as exc:
            # e.g. an integer with more digits than Python converts
            raise ConfigError(
                file, [("", f"a value cannot be read: {type(exc).__name__}: {str(exc)[:200]}")]
            ) from None
    finally:
        loader.dispose()


def load_yaml_file(
    path: str | Path,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    max_nodes: int = MAX_NODES,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Read and parse a YAML file within the size, node and depth bounds.

    Raises:
        ConfigError: the file is missing, too big, not UTF-8, not YAML or over a bound.
    """
    path = Path(path)
    file = str(path)
    try:
        if path.stat().st_size > max_bytes:
            raise ConfigError(
                file, [("", f"file is {path.stat().st_size} bytes; the limit is {max_bytes}")]
            )
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise ConfigError(file, [("", "file not found")]) from None
    except IsADirectoryError:
        raise ConfigError(file, [("", "is a folder, not a YAML file")]) from None
    except OSError as exc:
        raise ConfigError(file, [("", f"cannot be read: {exc}")]) from None
    if len(data) > max_bytes:  # grew since stat, or a special file
        raise ConfigError(file, [("", f"file is larger than the limit of {max_bytes} bytes")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            file, [("", f"not UTF-8 text: {exc.reason} at byte {exc.start}")]
        ) from None
    return load_yaml_text(text, file, max_nodes=max_nodes, max_depth=max_depth)
