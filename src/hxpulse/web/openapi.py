"""The API description (`/openapi.json`): every body, response, error and way to authenticate.

Routes that read their own body (a size limit, gzip, nesting at most 64 deep, a batch that
keeps its good messages) name the model that body is validated against with
`openapi_extra=body(Model)`: the description then shows the same model the route checks, and
a generated client or a fuzzer can build bodies from it. Routes with a model in their
signature are described by FastAPI itself.

Three security schemes are declared (the checks themselves are in `hxpulse.deps`):

- `bearerKey`: an API key, `Authorization: Bearer KEY` (every `/api` route);
- `writeKey`: a write key as the HTTP Basic user, password empty (the Segment `/v1` routes);
- `session`: the signed-in person's cookie (the API also wants `X-CSRF-Token` on changes).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.security import APIKeyCookie, HTTPBasic, HTTPBearer
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

_BODIES: dict[str, type[BaseModel]] = {}
REF = "#/components/schemas/{model}"


class _Declared:
    """A security scheme that only describes itself: the dependency reads nothing, because
    `hxpulse.deps` checks the credentials (with messages that say what is wrong)."""

    async def __call__(self, request: Request) -> None:
        return None


class _BearerKey(_Declared, HTTPBearer):  # type: ignore[misc]
    pass


class _WriteKey(_Declared, HTTPBasic):  # type: ignore[misc]
    pass


class _SessionCookie(_Declared, APIKeyCookie):  # type: ignore[misc]
    pass


BEARER_KEY = _BearerKey(
    scheme_name="bearerKey",
    description="An API key (`hxpulse keys create`) as `Authorization: Bearer KEY`.",
    auto_error=False,
)
WRITE_KEY = _WriteKey(
    scheme_name="writeKey",
    description="A write key as the HTTP Basic user with an empty password (Segment's SDKs);"
    " a Bearer key with the `track` scope works too.",
    auto_error=False,
)
SESSION = _SessionCookie(
    name="hxpulse_session",
    scheme_name="session",
    description="A signed-in person's session cookie; changes through the API also need the"
    " page's CSRF token in `X-CSRF-Token`.",
    auto_error=False,
)


class ErrorItem(BaseModel):
    """One problem: where (a field, a batch index or a line) and what."""

    model_config = {"extra": "allow"}
    field: str | None = None
    index: int | None = None
    message: str


class Error(BaseModel):
    """Every refusal (4xx) has this shape; `errors` lists each problem when there are several."""

    model_config = {"extra": "allow"}
    success: bool = False
    code: str = Field(examples=["invalid"])
    message: str = Field(examples=["definition: required"])
    errors: list[ErrorItem] | None = None


_ERRORS = {
    400: "The request is malformed; the message says what and where.",
    401: "No valid key or session.",
    403: "The key or role may not do this.",
    404: "Nothing has that reference.",
    409: "The change conflicts with what is stored.",
    413: "The body is larger than the route accepts.",
    422: "A value has the wrong type or is out of range.",
    429: "Too many requests; `Retry-After` says when to try again.",
}
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Error, "description": text} for status, text in _ERRORS.items()
}


def body(model: type[BaseModel], description: str | None = None) -> dict[str, Any]:
    """`openapi_extra` for a route that reads and validates its JSON body as `model` itself."""
    _BODIES[model.__name__] = model
    content = {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}}
    described: dict[str, Any] = {"required": True, "content": content}
    if description:
        described["description"] = description
    return {"requestBody": described}


def install(app: FastAPI) -> None:
    """Build `app`'s description once, adding the models named by `body()`."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        found = [(model, "validation") for model in _BODIES.values()]
        _, extra = models_json_schema(found, ref_template=REF)  # type: ignore[arg-type]
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in extra.get("$defs", {}).items():
            if schemas.setdefault(name, definition) != definition:  # two models, one name
                raise RuntimeError(f"two different schemas are named {name!r}: rename one")
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
