"""Keyword arguments of the Python API that were renamed to the command's names for the same settings,
kept working for one release: a call that uses an old name still runs, with a ``DeprecationWarning``
that names the new one."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

Function = TypeVar("Function", bound=Callable[..., Any])


def renamed_keywords(**renames: str) -> Callable[[Function], Function]:
    """A decorator: ``@renamed_keywords(flow_method="flow")`` lets callers still write
    ``flow_method=``, warns them to write ``flow=``, and passes the value on as ``flow``. Giving
    both names is a TypeError, as a keyword given twice is."""

    def decorate(function: Function) -> Function:
        @functools.wraps(function)
        def with_old_names(*args: Any, **kwargs: Any) -> Any:
            for old, new in renames.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise TypeError(f"{function.__name__}() got {new}= and its old name {old}=; give {new}= only")
                warnings.warn(
                    f"{function.__name__}({old}=...) is deprecated and goes in the next release: use {new}=...",
                    DeprecationWarning,
                    stacklevel=2,  # the caller's line, not this wrapper's
                )
                kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return cast(Function, with_old_names)

    return decorate
