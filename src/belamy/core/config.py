"""Typed dataclass configs: JSON round-trip, `--set` overrides and validation from the field types.

A config is a plain dataclass whose annotations say what each field may hold: `int`, `float`,
`bool`, `str`, `X | None`, or `Literal[...]` for a choice. `check_fields` checks every field
against its annotation and its `bounds(...)` metadata, so a new field is validated by declaring
it; only rules between fields are written by hand. Every error is one line naming the field.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

from belamy.core.errors import BelamyError

T = TypeVar("T")


def bounds(lo: float | None = None, hi: float | None = None) -> dict[str, Any]:
    """Field metadata: the inclusive range a number must lie in (`field(metadata=bounds(0, 1))`)."""
    return {"lo": lo, "hi": hi}


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in typing.get_args(hint))
    if origin in (Union, types.UnionType):
        return " or ".join("null" if a is type(None) else _describe(a) for a in typing.get_args(hint))
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(hint, str(hint))


def _matches(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin is Literal:
        return value in typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return any(_matches(value, a) for a in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    return True  # nested configs and other types check themselves


def check_fields(obj: Any, where: str = "config", error: type[BelamyError] = BelamyError) -> None:
    """Raise `error` with one line for the first field whose value breaks its type or bounds."""
    hints = _hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        hint = hints[f.name]
        if not _matches(value, hint):
            raise error(f"{where}: {f.name}={value!r} must be {_describe(hint)}")
        lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                span = f"in [{lo}, {hi}]" if lo is not None and hi is not None else \
                    (f"at least {lo}" if lo is not None else f"at most {hi}")
                raise error(f"{where}: {f.name}={value!r} must be {span}")


def _coerce(value: Any, hint: Any) -> Any:
    """JSON writes 2.0 as 2: an int where a float is declared becomes that float."""
    if isinstance(value, int) and not isinstance(value, bool):
        args = typing.get_args(hint) if typing.get_origin(hint) in (Union, types.UnionType) else (hint,)
        if float in args and int not in args:
            return float(value)
    return value


def from_dict(cls: type[T], data: dict[str, Any], where: str = "config",
              error: type[BelamyError] = BelamyError) -> T:
    """Build the dataclass `cls` from a dict, rejecting unknown keys with one line."""
    if not isinstance(data, dict):
        raise error(f"{where} must be a JSON object, got {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise error(f"{where}: unknown key '{unknown[0]}' (known keys: {', '.join(sorted(names))})")
    hints = _hints(cls)
    return cls(**{k: _coerce(v, hints[k]) for k, v in data.items()})  # type: ignore[call-arg]


def read_json_file(path: str | Path) -> dict[str, Any]:
    """A JSON config file as a dict, with one-line errors for a missing file or bad syntax."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BelamyError(f"config file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise BelamyError(f"config file {path} is not valid JSON (line {exc.lineno}): fix the syntax") from None
    if not isinstance(data, dict):
        raise BelamyError(f"config file {path} must hold a JSON object")
    return data


def check_version(version: Any, newest: int, where: Any, what: str, redo: str) -> int:
    """A file's format `version`: a whole number from 1 to `newest` (what this belamy reads), else one
    line saying what to do (`redo` for a broken one, an upgrade for a newer one)."""
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BelamyError(f"{where} has no valid {what} version: {redo}")
    if version > newest:
        raise BelamyError(f"{where} was written by a newer belamy ({what} {version}, this one reads {newest}): "
                          "upgrade belamy")
    return version


def read_step_record(path: str | Path, kind: str, needs: str, made_by: str) -> dict[str, Any]:
    """A step's JSON record (NAME.brush.json, NAME.upscale.json...): one line if it is unreadable or not
    a `kind` record holding `needs`."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BelamyError(f"{path} is not a readable {kind} record ({exc})") from None
    if not isinstance(record, dict) or record.get("kind") != kind or needs not in record:
        raise BelamyError(f"{path} is not a {kind} record ({made_by})")
    return record


def set_field(cfg: Any, dotted: str, raw: str) -> None:
    """Apply `--set a.b=value` to a (nested) dataclass, parsing the value as JSON when it can."""
    *parents, leaf = dotted.split(".")
    obj = cfg
    for p in parents:
        if not hasattr(obj, p):
            raise BelamyError(f"--set {dotted}: unknown field '{p}'")
        obj = getattr(obj, p)
    if not dataclasses.is_dataclass(obj) or leaf not in {f.name for f in dataclasses.fields(obj)}:
        raise BelamyError(f"--set {dotted}: unknown field '{leaf}'")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    setattr(obj, leaf, _coerce(value, _hints(type(obj))[leaf]))
