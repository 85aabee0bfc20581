"""openapi.yaml as :class:`~openrouter_video.testing.FakeOpenRouter` reads it: its routes, and each
operation's parameters and request body, checked with ``jsonschema`` against the document itself.

Nothing here is a copy of the spec's rules: paths, methods, parameters, schemas (each ``$ref``
resolved with ``referencing``, the whole document as the root resource) and documented statuses all
come from the document. One reading is this module's own: ``exclusiveMinimum: true`` next to ``minimum`` (the
OpenAPI 3.0 form, which this 3.1 document still uses for ``upscale_factor``) means "greater than the
minimum", as it did in 3.0 and as the client's own checks read it; JSON Schema 2020-12 has no boolean
form. ``format: uri`` is checked (an absolute URI: a scheme, no spaces); other formats are not.

It needs the ``testing`` extra (``jsonschema``, ``referencing``, ``pyyaml``); the library itself never
imports this module.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping, Sequence
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

#: The URI the document is registered under for ``$ref`` resolution (an identifier: nothing is read
#: from it).
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
    """A request the spec does not allow, and how to answer it.

    Attributes:
        status: The status to answer with (400, 404 or 405).
        message: The error message, naming the field, e.g. ``duration: -5 is less than the minimum of 1``.
        headers: Headers to send with the answer (``Allow`` for a 405).
    """

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})


@dataclass(frozen=True)
class Parameter:
    """One parameter of an operation.

    Attributes:
        name: Its name.
        location: ``"path"``, ``"query"`` or ``"header"`` (cookie parameters are not read).
        required: Whether the spec requires it.
        schema: Its schema, ``$ref`` resolved at the top (for the coercion of strings and defaults).
        validator: Checks a value against the schema.
    """

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

    @property
    def repeatable(self) -> bool:
        """Whether it may be given more than once (an array, the default ``explode`` form)."""
        return "array" in self.types

    def coerce(self, raw: str) -> Any:
        """A value as the schema types it: ``"3"`` is 3 for an integer, ``"true"`` true for a
        boolean; anything that does not parse stays a string (and fails a non-string schema)."""
        types = self.types
        if types & {"integer", "number"} and _INTEGER.fullmatch(raw):
            return int(raw)
        if "number" in types:
            try:
                number = float(raw)
            except ValueError:
                pass
            else:
                if number not in (float("inf"), float("-inf")) and number == number:
                    return number
        if "boolean" in types and raw in ("true", "false"):
            return raw == "true"
        return raw


@dataclass(frozen=True)
class Operation:
    """One operation of the spec.

    Attributes:
        method: The HTTP method, upper case.
        path: The path template, e.g. ``/videos/{jobId}``.
        operation_id: The ``operationId``.
        parameters: Its parameters (the path item's and its own).
        body: Checks a JSON request body, if the operation takes one.
        body_required: Whether the request body is required.
        media_types: The request body's media types.
        statuses: The documented response statuses (``"200"``, ``"4XX"``, ``"default"``...).
    """

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
    """A request that passed :meth:`OpenAPISpec.check`.

    Attributes:
        params: Each parameter given or defaulted, typed by its schema (``{"index": 0}``).
        body: The parsed JSON body (``None`` if there was none).
    """

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
    """A JSON pointer, escaped (RFC 6901) and percent-encoded for use as a URI fragment."""
    escaped = "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)
    return quote("/" + escaped, safe="/~")


def _where(base: str, path: Iterable[str | int]) -> str:
    """``frame_images[0].frame_type``: where in a value an error is."""
    out = base
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _message(base: str, error: ValidationError) -> str:
    text = f"{_where(base, error.absolute_path)}: {error.message}"
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class OpenAPISpec:
    """An OpenAPI 3.1 document: its operations, routing and request checks.

    Args:
        document: The parsed document (not modified).
    """

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document: dict[str, Any] = _normalized(copy.deepcopy(dict(document)))
        servers = self.document.get("servers") or [{"url": "/"}]
        #: The path the operations' paths are relative to (``/api/v1``, from ``servers[0].url``).
        self.prefix: str = urlsplit(str(servers[0]["url"])).path.rstrip("/")
        self._registry: Registry[Any] = Registry().with_resource(
            SPEC_URI, DRAFT202012.create_resource(self.document)
        )
        self._resolver = self._registry.resolver(base_uri=SPEC_URI)
        #: Each path template, mapped to its operations by method.
        self.paths: dict[str, dict[str, Operation]] = {}
        for template, raw in (self.document.get("paths") or {}).items():
            at = _ref_parts(raw["$ref"]) if "$ref" in raw else ("paths", template)
            item = self._deref(raw)
            self.paths[template] = {
                method.upper(): self._operation(template, method, item, at)
                for method in item
                if method.upper() in HTTP_METHODS
            }
        # Concrete paths are matched before templated ones (OpenAPI's rule): fewest parameters first.
        self._routes = sorted(
            ((template, self._compile(template)) for template in self.paths),
            key=lambda route: route[0].count("{"),
        )

    # -- building ---------------------------------------------------------------------------------
    def _deref(self, node: Any) -> Any:
        while isinstance(node, Mapping) and "$ref" in node:
            node = self._resolver.lookup(str(node["$ref"])).contents
        return node

    def _validator(self, *pointer: str) -> Draft202012Validator:
        return Draft202012Validator(
            {"$ref": SPEC_URI + "#" + _pointer(*pointer)},
            registry=self._registry,
            format_checker=_FORMATS,
        )

    def _operation(
        self, template: str, method: str, item: Mapping[str, Any], item_at: tuple[str, ...]
    ) -> Operation:
        """The operation ``method`` of the path item ``item``, found at the pointer ``item_at``."""
        operation = item[method]
        parameters: dict[tuple[str, str], Parameter] = {}
        for owner, at in ((item, item_at), (operation, (*item_at, method))):
            for position, raw in enumerate(owner.get("parameters") or ()):
                where = _ref_parts(raw["$ref"]) if "$ref" in raw else (*at, "parameters", str(position))
                param = self._deref(raw)
                if param.get("in") not in ("path", "query", "header"):
                    continue  # cookie parameters are not read
                # (the operation's own parameters come second and override the path item's)
                parameters[(param["name"], param["in"])] = Parameter(
                    name=str(param["name"]),
                    location=str(param["in"]),
                    required=bool(param.get("required", param["in"] == "path")),
                    schema=self._deref(param.get("schema") or {}),
                    validator=self._validator(*where, "schema"),
                )
        raw_body = operation.get("requestBody") or {}
        body_at = _ref_parts(raw_body["$ref"]) if "$ref" in raw_body else (*item_at, method, "requestBody")
        body = self._deref(raw_body)
        content = body.get("content") or {}
        json_type = next((t for t in content if t == "application/json" or t.endswith("+json")), None)
        return Operation(
            method=method.upper(),
            path=template,
            operation_id=str(operation.get("operationId", f"{method} {template}")),
            parameters=tuple(parameters.values()),
            body=None if json_type is None else self._validator(*body_at, "content", json_type, "schema"),
            body_required=bool(body.get("required", False)),
            media_types=frozenset(content),
            statuses=frozenset(str(status) for status in operation.get("responses") or {}),
        )

    def _compile(self, template: str) -> re.Pattern[str]:
        pattern = ""
        for literal, name in re.findall(r"([^{]*)(?:\{([^}]*)\})?", template):
            pattern += re.escape(literal)
            if name:
                pattern += f"(?P<{_group(name)}>[^/]*)"
        return re.compile(pattern)

    # -- routing ----------------------------------------------------------------------------------
    @property
    def operations(self) -> list[Operation]:
        """Every operation, in document order."""
        return [op for methods in self.paths.values() for op in methods.values()]

    def allowed(self, template: str) -> list[str]:
        """The methods ``template`` answers, in :data:`HTTP_METHODS` order: those the spec defines,
        and ``HEAD`` wherever ``GET`` is (HTTP's rule)."""
        defined = set(self.paths[template])
        if "GET" in defined:
            defined.add("HEAD")
        return [method for method in HTTP_METHODS if method in defined]

    def match(self, method: str, path: str) -> Match:
        """The operation ``method`` and ``path`` (still percent-encoded, with the server's prefix) name.

        Raises:
            RequestRefused: 404 for a path the spec does not have; 405 with ``Allow`` for a method the
                spec does not define for it (``HEAD`` is answered as ``GET``).
        """
        if not (path == self.prefix or path.startswith(self.prefix + "/")):
            raise RequestRefused(404, f"No route for {path}")
        relative = path[len(self.prefix) :] or "/"
        for template, pattern in self._routes:
            found = pattern.fullmatch(relative)
            if found is None:
                continue
            methods = self.paths[template]
            operation = methods.get("GET" if method == "HEAD" and "HEAD" not in methods else method)
            if operation is None:
                allow = ", ".join(self.allowed(template))
                raise RequestRefused(
                    405, f"Method {method} is not allowed for {path} (allowed: {allow})", {"Allow": allow}
                )
            names = re.findall(r"\{([^}]*)\}", template)
            return Match(operation, {name: found[_group(name)] for name in names})
        raise RequestRefused(404, f"No route for {path}")

    # -- checking ---------------------------------------------------------------------------------
    def check(
        self,
        match: Match,
        query: Mapping[str, Sequence[str]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> Checked:
        """Check a request's parameters and body against its operation.

        Args:
            match: What :meth:`match` returned.
            query: The decoded query, each name mapped to all its values in order.
            headers: The request headers, names in lower case.
            body: The request body.

        Raises:
            RequestRefused: 400 with a message naming the field (for a path parameter, 404 when the
                operation documents no 400: a path that names nothing).
        """
        operation = match.operation
        params: dict[str, Any] = {}
        for param in operation.parameters:
            if param.location == "path":
                values = [unquote(match.path_params.get(param.name, ""))]
            elif param.location == "query":
                values = list(query.get(param.name, ()))
            else:
                values = [headers[param.name.lower()]] if param.name.lower() in headers else []
            status = 404 if param.location == "path" and not operation.documents(400) else 400
            if not values:
                if param.required:
                    raise RequestRefused(400, f"{param.name}: the {param.location} parameter is required")
                if "default" in param.schema:
                    params[param.name] = param.schema["default"]
                continue
            if len(values) > 1 and not param.repeatable:
                shown = ", ".join(repr(v) for v in values)
                raise RequestRefused(
                    400, f"{param.name}: given {len(values)} times ({shown}); the spec allows one value"
                )
            value: Any = [param.coerce(v) for v in values] if param.repeatable else param.coerce(values[0])
            error = best_match(param.validator.iter_errors(value))
            if error is not None:
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


def _ref_parts(ref: str) -> tuple[str, ...]:
    """The JSON pointer of a local ``$ref`` (``#/components/...``), unescaped, part by part."""
    fragment = unquote(str(ref).partition("#")[2])
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in fragment.split("/")[1:])


def _group(name: str) -> str:
    """A regex group name for a path parameter (any name: hex-encoded)."""
    return "p" + name.encode().hex()
