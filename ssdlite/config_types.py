"""Config values against their dataclass type hints: parsing `--set` strings, coercion and checks."""

import ast
import types
import typing
from typing import Any, Literal


def parse_literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # a bare string such as ddp or sgd


def coerce(value: Any, hint: Any) -> Any:
    """Lists become tuples and ints become floats where the hint asks for them."""
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, int) and not isinstance(value, bool) and accepts(hint, float) and not accepts(hint, int):
        return float(value)
    if isinstance(value, tuple):
        args = typing.get_args(hint)
        if typing.get_origin(hint) in (typing.Union, types.UnionType):
            args = next((typing.get_args(a) for a in args if typing.get_origin(a) is tuple), ())
        if args and args[-1] is not Ellipsis and len(args) == len(value):
            return tuple(coerce(v, a) for v, a in zip(value, args))
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(v, args[0]) for v in value)
    return value


def accepts(hint: Any, kind: type) -> bool:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(accepts(a, kind) for a in typing.get_args(hint))
    return hint is kind


def matches(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(matches(value, a) for a in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is Literal:
        return value in typing.get_args(hint)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(matches(v, args[0]) for v in value)
        return len(args) == len(value) and all(matches(v, a) for v, a in zip(value, args))
    return isinstance(value, hint)


def type_name(hint: Any) -> str:
    if typing.get_origin(hint) is Literal:
        return "one of " + ", ".join(repr(v) for v in typing.get_args(hint))
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
