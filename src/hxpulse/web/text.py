"""The NUL rule: text containing U+0000 is refused, naming where it is.

PostgreSQL cannot store a NUL character in a text column or a JSONB document, and SQLite would
store what PostgreSQL refuses, so both refuse it here alike, before anything is stored:

- JSON (a message of a batch, a row of an import, a whole body): `refuse_nul(value)` names the
  first key or string holding one (`properties.note`);
- the path, the query string and posted forms: `plain_request` (an application-wide
  dependency: the path, query parameters, and forms the route declares with `Form()`) and
  `checked_form` for the routes that read their form themselves.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request, params
from fastapi.routing import APIRoute
from starlette.datastructures import FormData

from hxpulse.errors import Invalid

NUL = "\x00"
PROBLEM = "text contains a NUL character (\\u0000), which cannot be stored"
KEY_PROBLEM = "a key contains a NUL character (\\u0000), which cannot be stored"


def nul_path(value: Any, prefix: str = "") -> tuple[str, str] | None:
    """The (place, problem) of the first key or string in `value` holding a NUL, else None."""
    stack: list[tuple[str, Any]] = [(prefix, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return where or "(value)", PROBLEM
        elif isinstance(item, dict):
            for key, child in item.items():
                place = _join(where, str(key))
                if isinstance(key, str) and NUL in key:
                    return place.replace(NUL, "\\u0000"), KEY_PROBLEM
                stack.append((place, child))
        elif isinstance(item, list):
            stack.extend((f"{where}[{n}]", child) for n, child in enumerate(item))
    return None


def refuse_nul(value: Any, prefix: str = "") -> None:
    """Raise Invalid naming the first key or string of `value` that holds a NUL."""
    found = nul_path(value, prefix)
    if found is not None:
        where, problem = found
        raise Invalid(f"{where}: {problem}", errors=[{"field": where, "message": problem}])


def checked_form(form: FormData) -> FormData:
    """Return `form` unless one of its text fields holds a NUL (Invalid names the field)."""
    refuse_nul({name: v for name, v in form.multi_items() if isinstance(v, str)})
    return form


async def plain_request(request: Request) -> None:
    """Refuse a NUL in the path, a query parameter, or a body the route declares (`Form()` or
    a model); FastAPI has read such a body already, so this reads nothing the route would not
    (bodies the routes read themselves are checked where they read them)."""
    for name, value in request.path_params.items():
        refuse_nul({name: value})
    if NUL in request.scope.get("path", ""):
        raise Invalid(f"path: {PROBLEM}", errors=[{"field": "path", "message": PROBLEM}])
    for name, value in request.query_params.multi_items():
        refuse_nul({name: value})
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return
    if isinstance(route.body_field.field_info, params.Form):
        checked_form(await request.form())
    elif b"\\u0000" in (raw := await request.body()):  # JSON writes a NUL as \u0000
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return  # not JSON: FastAPI has answered it already
        refuse_nul(body)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
