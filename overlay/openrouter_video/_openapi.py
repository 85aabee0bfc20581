"""openapi.yaml as :class:`~openrouter_video.testing.FakeOpenRouter` reads it: its routes, and each
operation's parameters and request body, checked with ``jsonschema`` against the document itself (every
rule comes from the document; docs/testing.md says how ``exclusiveMinimum: true`` and ``format: uri``
are read). It needs the ``testing`` extra; the library itself never imports this module.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit

try:
    import yaml
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import ValidationError, best_match
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "openrouter_video.testing.FakeOpenRouter checks requests against openapi.yaml and needs the "
        f"'testing' extra: pip install 'openrouter-video[testing]' ({exc})"
    ) from exc

__all__ = [
    "HTTP_METHODS",
    "SPEC_URI",
    "Checked",
    "Match",
    "OpenAPISpec",
    "Operation",
    "Parameter",
    "RequestRefused",
    "load_spec",
    "spec_path",
]

#: The methods an OpenAPI path item may define, in the order ``Allow`` lists them.
HTTP_METHODS: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")

#: The URI the document is registered under for ``$ref`` resolution (nothing is read from it).
SPEC_URI: Final = "file:///openapi.yaml"

#: The longest validation message sent back (a message quotes the offending value).
_MAX_MESSAGE: Final = 500

_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\"<>\\^`{|}]*")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    """``format: uri``: an absolute URI (RFC 3986: a scheme, then no spaces or excluded characters)."""
    return not isinstance(value, str) or _URI.fullmatch(value) is not None


def spec_path() -> Path:
    """Where openapi.yaml is: the copy shipped in the wheel (``openrouter_video/openapi.yaml``) or,
    in a source checkout (an editable install), the repository's own at its root."""
    here = Path(__file__).resolve()
    for candidate in (here.with_name("openapi.yaml"), here.parents[2] / "openapi.yaml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"openapi.yaml is neither beside {here} nor at the repository root")


@cache
def load_spec(path: Path | None = None) -> OpenAPISpec:
    """The spec at ``path`` (default :func:`spec_path`), read once per process."""
    text = (path or spec_path()).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return OpenAPISpec(yaml.load(text, Loader=loader))  # a safe loader either way


class RequestRefused(Exception):
    """A request the spec does not allow: the ``status`` to answer, the ``message`` naming the field
    (``duration: -5 is less than the minimum of 1``) and ``headers`` to send (``Allow`` for a 405)."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})


@dataclass(frozen=True)
class Parameter:
    """One parameter of an operation (``location``: ``"path"``, ``"query"`` or ``"header"``; ``schema``
    with its top ``$ref`` resolved, and a ``validator`` of values against it)."""

    name: str
    location: str
    required: bool
    schema: Mapping[str, Any]
    validator: Draft202012Validator = field(repr=False, compare=False)

    @property
    def types(self) -> frozenset[str]:
        """The JSON types its schema allows (empty: any)."""
        kind = self.schema.get("type")
        return frozenset([kind] if isinstance(kind, str) else kind or ())

    def coerce(self, raw: str) -> Any:
        """A value as the schema types it: ``"3"`` is 3 for an integer, ``"true"`` true for a
        boolean; anything that does not parse stays a string (and fails a non-string schema)."""
        types = self.types
        if types & {"integer", "number"} and _INTEGER.fullmatch(raw):
            return int(raw)
        with suppress(ValueError):
            if "number" in types and math.isfinite(number := float(raw)):
                return number
        if "boolean" in types and raw in ("true", "false"):
            return raw == "true"
        return raw


@dataclass(frozen=True)
class Operation:
    """One operation of the spec: ``method`` (upper case), ``path`` template, ``parameters`` (the path
    item's and its own), ``body`` (a validator of a JSON body, if it takes one) and the documented
    response ``statuses`` (``"200"``, ``"4XX"``, ``"default"``...)."""

    method: str
    path: str
    operation_id: str
    parameters: tuple[Parameter, ...]
    body: Draft202012Validator | None = field(repr=False, compare=False)
    body_required: bool
    media_types: frozenset[str]
    statuses: frozenset[str]

    def documents(self, status: int) -> bool:
        """Whether the spec documents ``status`` for this operation (exactly, as ``4XX``, or ``default``)."""
        return bool({str(status), f"{status // 100}XX", "default"} & self.statuses)


@dataclass(frozen=True)
class Match:
    """A request's operation and the raw (still percent-encoded) values of its path parameters."""

    operation: Operation
    path_params: dict[str, str]


@dataclass(frozen=True)
class Checked:
    """A request that passed :meth:`OpenAPISpec.check`: each parameter given or defaulted, typed by its
    schema (``{"index": 0}``), and the parsed JSON body (``None`` if there was none)."""

    params: dict[str, Any]
    body: Any


def _normalized(node: Any) -> Any:
    """A copy of the document with OpenAPI 3.0's boolean ``exclusiveMinimum``/``exclusiveMaximum``
    read as 3.0 meant them (``minimum: 0, exclusiveMinimum: true`` is ``exclusiveMinimum: 0``)."""
    if isinstance(node, list):
        return [_normalized(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _normalized(value) for key, value in node.items()}
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        # (a boolean is dropped: false meant nothing, and true becomes the bound, if there is one)
        if isinstance(out.get(exclusive), bool) and out.pop(exclusive) and bound in out:
            out[exclusive] = out.pop(bound)
    return out


def _pointer(*parts: str) -> str:
    """A JSON pointer to ``parts``, each escaped (RFC 6901)."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _compile(template: str) -> re.Pattern[str]:
    """The paths of ``template``, a group for each of its parameters."""
    return re.compile("([^/]*)".join(re.escape(part) for part in re.split(r"\{[^}]*\}", template)))


def _message(base: str, error: ValidationError) -> str:
    """``frame_images[0].frame_type: ...``: where in a value ``error`` is, and what it is."""
    where = base
    for part in error.absolute_path:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    text = f"{where or 'body'}: {error.message}"
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class OpenAPISpec:
    """An OpenAPI 3.1 document (parsed, not modified): its operations, routing and request checks."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document: dict[str, Any] = _normalized(dict(document))  # a copy: every dict and list is new
        servers = self.document.get("servers") or [{"url": "/"}]
        #: The path the operations' paths are relative to (``/api/v1``, from ``servers[0].url``).
        self.prefix: str = urlsplit(str(servers[0]["url"])).path.rstrip("/")
        resource = DRAFT202012.create_resource(self.document)
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        self._resolver = self._registry.resolver(base_uri=SPEC_URI)
        #: Each path template, mapped to its operations by method.
        self.paths: dict[str, dict[str, Operation]] = {}
        for template, raw in (self.document.get("paths") or {}).items():
            item, at = self._at(raw, _pointer("paths", template))
            self.paths[template] = {
                method.upper(): self._operation(template, method, item, at)
                for method in item
                if method.upper() in HTTP_METHODS
            }
        # Concrete paths are matched before templated ones (OpenAPI's rule): fewest parameters first.
        templates = sorted(self.paths, key=lambda template: template.count("{"))
        self._routes = [(template, _compile(template)) for template in templates]

    def _deref(self, node: Any) -> Any:
        while isinstance(node, Mapping) and "$ref" in node:
            node = self._resolver.lookup(str(node["$ref"])).contents
        return node

    def _at(self, node: Mapping[str, Any], pointer: str) -> tuple[Any, str]:
        """``node`` dereferenced, and where it is: its ``$ref``'s pointer, else ``pointer``."""
        if "$ref" in node:
            pointer = unquote(str(node["$ref"]).partition("#")[2])
        return self._deref(node), pointer

    def _validator(self, pointer: str, *parts: str) -> Draft202012Validator:
        return Draft202012Validator(
            {"$ref": SPEC_URI + "#" + quote(pointer + _pointer(*parts), safe="/~")},
            registry=self._registry,
            format_checker=_FORMATS,
        )

    def _operation(self, template: str, method: str, item: Mapping[str, Any], item_at: str) -> Operation:
        """The operation ``method`` of the path item ``item``, found at the pointer ``item_at``."""
        operation = item[method]
        parameters: dict[tuple[str, str], Parameter] = {}
        for owner, at in ((item, item_at), (operation, f"{item_at}/{method}")):
            for position, raw in enumerate(owner.get("parameters") or ()):
                param, where = self._at(raw, f"{at}/parameters/{position}")
                if param.get("in") not in ("path", "query", "header"):
                    continue  # cookie parameters are not read
                # (the operation's own parameters come second and override the path item's)
                parameters[(param["name"], param["in"])] = Parameter(
                    name=str(param["name"]),
                    location=str(param["in"]),
                    required=bool(param.get("required", param["in"] == "path")),
                    schema=self._deref(param.get("schema") or {}),
                    validator=self._validator(where, "schema"),
                )
        body, body_at = self._at(operation.get("requestBody") or {}, f"{item_at}/{method}/requestBody")
        content = body.get("content") or {}
        json_type = next((t for t in content if t == "application/json" or t.endswith("+json")), None)
        return Operation(
            method=method.upper(),
            path=template,
            operation_id=str(operation.get("operationId", f"{method} {template}")),
            parameters=tuple(parameters.values()),
            body=None if json_type is None else self._validator(body_at, "content", json_type, "schema"),
            body_required=bool(body.get("required", False)),
            media_types=frozenset(content),
            statuses=frozenset(str(status) for status in operation.get("responses") or {}),
        )

    def match(self, method: str, path: str) -> Match:
        """The operation ``method`` and ``path`` (still percent-encoded, with the server's prefix) name.
        Raises :class:`RequestRefused`: 404 off the spec's paths; 405 with ``Allow`` for a method the
        path does not define (``HEAD`` is answered as ``GET``)."""
        routed = path == self.prefix or path.startswith(self.prefix + "/")
        for template, pattern in self._routes if routed else ():
            found = pattern.fullmatch(path[len(self.prefix) :] or "/")
            if found is None:
                continue
            methods = self.paths[template]
            operation = methods.get("GET" if method == "HEAD" and "HEAD" not in methods else method)
            if operation is None:
                # those the spec defines, and HEAD wherever GET is (HTTP's rule)
                allow = ", ".join(
                    m for m in HTTP_METHODS if m in methods or (m == "HEAD" and "GET" in methods)
                )
                raise RequestRefused(
                    405, f"Method {method} is not allowed for {path} (allowed: {allow})", {"Allow": allow}
                )
            names = re.findall(r"\{([^}]*)\}", template)
            return Match(operation, dict(zip(names, found.groups(), strict=True)))
        raise RequestRefused(404, f"No route for {path}")

    def check(
        self, match: Match, query: Mapping[str, Sequence[str]], headers: Mapping[str, str], body: bytes
    ) -> Checked:
        """Check a request's parameters (``query``: each name's values in order; ``headers``: names in
        lower case) and body against the operation :meth:`match` found. Raises :class:`RequestRefused`:
        400 naming the field (404 for a path parameter if the operation documents no 400)."""
        operation = match.operation
        params: dict[str, Any] = {}
        for param in operation.parameters:
            values = {
                "path": [unquote(match.path_params.get(param.name, ""))],
                "query": list(query.get(param.name, ())),
                "header": [headers[param.name.lower()]] if param.name.lower() in headers else [],
            }[param.location]
            if not values:
                if param.required:
                    raise RequestRefused(400, f"{param.name}: the {param.location} parameter is required")
                if "default" in param.schema:
                    params[param.name] = param.schema["default"]
                continue
            repeatable = "array" in param.types  # given more than once: the default ``explode`` form
            if len(values) > 1 and not repeatable:
                shown = ", ".join(repr(v) for v in values)
                raise RequestRefused(
                    400, f"{param.name}: given {len(values)} times ({shown}); the spec allows one value"
                )
            value: Any = [param.coerce(v) for v in values] if repeatable else param.coerce(values[0])
            error = best_match(param.validator.iter_errors(value))
            if error is not None:
                status = 404 if param.location == "path" and not operation.documents(400) else 400
                raise RequestRefused(status, _message(param.name, error))
            params[param.name] = value
        return Checked(params, self._check_body(operation, headers, body))

    def _check_body(self, operation: Operation, headers: Mapping[str, str], body: bytes) -> Any:
        if not operation.media_types:
            return None
        if not body:
            if operation.body_required:
                raise RequestRefused(400, "body: a request body is required")
            return None
        media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type not in operation.media_types:
            allowed = ", ".join(sorted(operation.media_types))
            raise RequestRefused(400, f"body: Content-Type must be {allowed}, not {media_type or 'missing'}")
        if operation.body is None:
            return None
        try:
            parsed = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError) as exc:
            raise RequestRefused(400, f"body: not valid JSON ({exc})") from None
        error = best_match(operation.body.iter_errors(parsed))
        if error is not None:
            raise RequestRefused(400, _message("", error))
        return parsed
