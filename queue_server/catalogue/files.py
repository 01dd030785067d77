"""Where the catalogue lives, reading its YAML strictly, and the error that names a file and entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DEFAULT_ROOT = Path(__file__).resolve().parent.parent.parent / "assets" / "catalogue"
_PROJECT_ROOT = DEFAULT_ROOT.parent.parent


class CatalogueError(ValueError):
    """A catalogue or hall file that cannot be used; names the file and the entry at fault."""

    def __init__(self, file: Path, entry: str, message: str) -> None:
        self.file = file
        self.entry = entry
        self.message = message
        super().__init__(f"{_shown(file)}: {entry}: {message}")


def _shown(file: Path) -> str:
    try:
        return file.resolve().relative_to(_PROJECT_ROOT).as_posix()
    except ValueError:
        return str(file)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader refusing a key given twice in one mapping (PyYAML keeps the last silently)."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:  # unhashable; construct_mapping reports it
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark,
                f"duplicate key {key!r}", key_node.start_mark,
            )
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def read_mapping(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError(path, "file", "not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(path, "file", f"cannot be read: {exc}") from None
    loader = _UniqueKeyLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        entry = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        raise CatalogueError(path, entry, f"YAML syntax error: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(path, "YAML", f"YAML syntax error: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise CatalogueError(path, "top level", "expected a mapping of keys to values")
    return data
