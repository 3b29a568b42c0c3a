"""Safe YAML loading with file-and-position error messages.

Only ``yaml.SafeLoader`` is used: user files can never construct Python objects. Duplicate keys are
rejected (PyYAML silently keeps the last one, which hides typos in scenario files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class InputError(ValueError):
    """A user-supplied file or value is invalid; the message says where and how to fix it."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, yaml.Mark] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"found a {type(key).__name__} used as a key; keys must be plain names or numbers",
                key_node.start_mark) from None
        if key in seen:
            first = seen[key]
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r} (first defined on line {first.line + 1}); "
                "remove one of them",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

MAX_NODES = 200_000  # values a document may expand to once its `*alias` references are followed


def _expanded_size(node: yaml.Node, memo: dict[int, int], busy: set[int]) -> int:
    """How many values ``node`` stands for when every alias is written out (aliases share one node)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if key in busy:
        raise yaml.composer.ComposerError(None, None, "an alias refers to the value that contains it",
                                          node.start_mark)
    busy.add(key)
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    else:
        children = []
    total = 1
    for child in children:
        total += _expanded_size(child, memo, busy)
        if total > MAX_NODES:
            break
    busy.discard(key)
    memo[key] = total
    return total


def parse_yaml(text: str, source: str = "<string>") -> Any:
    """Parse YAML text safely; syntax errors become :class:`InputError` with line and column."""
    loader = _UniqueKeyLoader(text)  # a SafeLoader: tags such as !!python/object are refused
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}, set()) > MAX_NODES:
            raise InputError(f"{source}: its `*alias` references expand to more than {MAX_NODES:,} values. "
                             "Fix: write the values out instead of nesting aliases")
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(
            f"{source}: YAML syntax error at {where}: {problem}. "
            "Fix: check indentation (spaces, not tabs), colons after keys and matching quotes/brackets."
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: cannot parse YAML: {exc}") from None
    except RecursionError:
        raise InputError(f"{source}: values nested too deeply to read. Fix: flatten the file") from None
    finally:
        loader.dispose()


def load_yaml_file(path: Path) -> Any:
    """Read and safely parse one YAML file."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found. Fix: check the path (relative paths are resolved "
                         "against the file that names them).")
    if not path.is_file():
        raise InputError(f"{path}: is a folder, not a file. Fix: name a YAML file, e.g. plans/baseline.yaml")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text. Fix: save the file as UTF-8.") from None
    return parse_yaml(text, source=str(path))
