"""The ``openrouter-video`` command (also ``python -m openrouter_video``).

::

    openrouter-video download JOB_ID [-o PATH] [--index N] [--overwrite] [--sha256] [--json] [--quiet]
    openrouter-video generate --model M --prompt P [--duration S] [--resolution R] [--aspect-ratio A]
                              [-o DIR] [--poll-interval S] [--wait-timeout S] [--json] [--quiet]
    openrouter-video status JOB_ID [--json]
    openrouter-video models [--json]
    openrouter-video clean DIR [--older-than SECONDS]

Every command but ``clean`` also takes ``--base-url``, ``--timeout`` and ``--max-attempts``. The API
key is read only from ``OPENROUTER_API_KEY`` and never printed. Exit codes: 0 on success, 1 on any
failure (an API error after retries, network, integrity, destination exists, a failed job), 2 on a
usage error (including a missing key), 130 on Ctrl-C, 143 on SIGTERM and 129 on SIGHUP. A failure
prints one line, ``error: ...``, on stderr; when a download kept its partial file, a second line,
``note: ...``, says so: running the same command again resumes it.

The progress bar and the status spinner (on stderr, only when it is a terminal) use tqdm, from the
``cli`` extra (``pip install 'openrouter-video[cli]'``); without tqdm the commands work and show
neither.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from ._config import API_KEY_ENV, BASE_URL_ENV
from ._options import ASPECT_RATIOS, RESOLUTIONS
from ._secrets import redact
from .engine.retry import RetryPolicy
from .errors import InvalidRequestError, OpenRouterVideoError, VideoJobFailedError

if TYPE_CHECKING:
    from .client import DownloadResult, VideoClient
    from .jobs import VideoJob

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class _UsageError(Exception):
    """A usage problem found after parsing (e.g. no API key): exit code 2."""


class _Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled like Ctrl-C (the partial download is kept): exit 128 + signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _on_signal(signum: int, frame: FrameType | None) -> None:
    # Once is enough: further signals must not interrupt the clean-up the first one starts.
    for other in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(other, signal.SIG_IGN)
    raise _Terminated(signum)


def _handle_signals() -> None:
    """Turn SIGTERM (``docker stop``, ``timeout``, orchestrators) and SIGHUP into exceptions, so
    that a download stops the way Ctrl-C stops it."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(signum, _on_signal)
        except (ValueError, OSError):  # not the main thread, or not supported here
            pass


class _Bar:
    """A tqdm byte bar that copes with an unknown size and goes back when a download restarts."""

    def __init__(self, stream: TextIO, description: str) -> None:
        from tqdm import tqdm  # imported only when a bar is shown: keeps --help fast

        self._bar = tqdm(
            total=None,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            file=stream,
            desc=description,
            dynamic_ncols=True,
            leave=True,
        )

    def __call__(self, done: int, total: int | None) -> None:
        bar = self._bar
        if done < bar.n:  # the download restarted from 0
            bar.reset(total=total)
        elif total != bar.total:
            bar.total = total
        bar.update(done - bar.n)

    def write(self, line: str) -> None:
        """Print a line above the bar."""
        self._bar.write(line, file=self._bar.fp)

    def close(self) -> None:
        self._bar.close()


class _Spinner:
    """A one-line tqdm status (spinner, job id, status, elapsed) animated while ``wait`` sleeps."""

    def __init__(self, stream: TextIO) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=None, file=stream, bar_format="{desc} [{elapsed}]", leave=True)
        self._status = "submitting"
        self._frame = 0

    def status(self, job: VideoJob) -> None:
        self._status = f"{job.id} {job.status}"
        self._draw()

    def sleep(self, seconds: float) -> None:
        """The sleep given to the client: it turns the spinner while it waits."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._draw()
            time.sleep(min(0.1, left))

    def _draw(self) -> None:
        self._frame = (self._frame + 1) % len(_SPINNER)
        self._bar.set_description_str(f"{_SPINNER[self._frame]} {self._status}")

    def close(self) -> None:
        self._bar.close()


def _interactive(args: argparse.Namespace) -> bool:
    if getattr(args, "quiet", False) or not sys.stderr.isatty():
        return False
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


class _Notes(logging.Handler):
    """Prints each retry of the ``openrouter_video`` logger as a ``note:`` line on stderr."""

    def __init__(self, bar: _Bar | None) -> None:
        super().__init__(logging.INFO)  # INFO: a resume after progress; WARNING: a retry
        self.bar = bar

    def emit(self, record: logging.LogRecord) -> None:
        line = f"note: {_printable(redact(record.getMessage()))}"
        if self.bar is not None:
            self.bar.write(line)  # above the progress bar
        else:
            sys.stderr.write(line + "\n")


def _show_retries(bar: _Bar | None) -> None:
    """Route the library's retries and resumes to stderr as ``note:`` lines (above ``bar``, if one
    is drawn)."""
    logger = logging.getLogger("openrouter_video")
    logger.handlers = [h for h in logger.handlers if not isinstance(h, _Notes)]
    logger.addHandler(_Notes(bar))
    logger.setLevel(logging.INFO)
    logger.propagate = False


# -- arguments -------------------------------------------------------------------------------------------
def _number(text: str, kind: type[int] | type[float], floor: float, inclusive: bool) -> Any:
    """Parse an argument; the message says what is wanted in words (argparse would name this
    function instead)."""
    what = "a whole number" if kind is int else "a number"
    bound = f"{'>=' if inclusive else '>'} {floor:g}"
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what} {bound}, not {text!r}") from None
    if not (value >= floor if inclusive else value > floor):  # also refuses NaN
        raise argparse.ArgumentTypeError(f"must be {what} {bound}, not {text!r}")
    return value


def _non_negative(text: str) -> int:
    return int(_number(text, int, 0, inclusive=True))


def _positive(text: str) -> int:
    return int(_number(text, int, 1, inclusive=True))


def _connections(text: str) -> int:
    value = int(_number(text, int, 1, inclusive=True))
    if value > 16:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 16, not {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    return float(_number(text, float, 0, inclusive=True))


def _positive_float(text: str) -> float:
    return float(_number(text, float, 0, inclusive=False))


def _common(parser: argparse.ArgumentParser, *, downloads: bool = False) -> None:
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help=f"API root (default ${BASE_URL_ENV}, else https://openrouter.ai/api/v1)",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=60.0,
        metavar="SECONDS",
        help="connect and read timeout per request"
        + ("; a download that stalls this long is resumed" if downloads else "")
        + " (default %(default)s)",
    )
    parser.add_argument(
        "--max-attempts",
        type=_positive,
        default=RetryPolicy().max_attempts,
        metavar="N",
        help="requests in a row without progress before giving up (default %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    parser.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help=(
            "no progress bar, no notes, and nothing on stdout on success"
            if downloads
            else "no notes about retries (the result is still printed)"
        ),
    )


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")
    parser.add_argument("--sha256", action="store_true", help="compute each file's SHA-256 while downloading")
    parser.add_argument(
        "--connections",
        type=_connections,
        default=None,
        metavar="N",
        help=(
            "fetch each video of 16 MiB or more as byte ranges over up to N connections at once "
            "(1 to 16), adding one while the speed still grows (for links that cap each connection); "
            "1: one connection (default: up to 4)"
        ),
    )


def _version() -> str:
    from . import __version__

    return __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openrouter-video",
        description="Generate videos with OpenRouter's Video Generation API and download them: "
        "streamed, resumable, atomic.",
        epilog=f"The API key is read from ${API_KEY_ENV} (there is no flag for it). "
        "Exit codes: 0 ok, 1 failure, 2 usage error, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    download = commands.add_parser(
        "download",
        help="download a video job's output to a file",
        description="Download output INDEX of JOB_ID. The file appears only once complete.",
    )
    download.add_argument("job_id", metavar="JOB_ID", help="the video generation job id")
    download.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="file to write, or a directory (an existing one, or a path ending in /; created if "
        "missing). Default: ./<JOB_ID>.mp4, or ./<JOB_ID>-<INDEX>.mp4 when --index > 0 (the job id "
        "made a safe file name)",
    )
    download.add_argument(
        "--index", type=_non_negative, default=0, metavar="N", help="output index (default 0)"
    )
    _output_options(download)
    _common(download, downloads=True)

    generate = commands.add_parser(
        "generate",
        help="submit a job, wait for it, download every output",
        description="Submit a video generation job (never resubmitted automatically: it is paid), "
        "wait for it with a status spinner, then download every output into DIR.",
    )
    generate.add_argument("--model", required=True, help="the video model, e.g. google/veo-3.1")
    generate.add_argument("--prompt", help="what the video shows")
    generate.add_argument(
        "--duration", type=_positive, metavar="SECONDS", help="length of the video in seconds (at least 1)"
    )
    generate.add_argument(
        "--resolution", metavar="RESOLUTION", help=f"one of {', '.join(RESOLUTIONS)} (the spec's values)"
    )
    generate.add_argument(
        "--aspect-ratio", metavar="RATIO", help=f"one of {', '.join(ASPECT_RATIOS)} (the spec's values)"
    )
    generate.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        default=os.curdir,
        help="directory for the files, created if missing (default .)",
    )
    generate.add_argument(
        "--poll-interval", type=_positive_float, default=5.0, metavar="SECONDS", help="default %(default)s"
    )
    generate.add_argument(
        "--wait-timeout",
        type=_positive_float,
        default=1800.0,
        metavar="SECONDS",
        help="give up waiting for the job after this long (default %(default)s)",
    )
    _output_options(generate)
    _common(generate, downloads=True)

    status = commands.add_parser("status", help="show a job's status", description="Show JOB_ID's status.")
    status.add_argument("job_id", metavar="JOB_ID")
    _common(status)

    models = commands.add_parser("models", help="list the video models", description="List the video models.")
    _common(models)

    clean = commands.add_parser(
        "clean",
        help="remove partial downloads",
        description="Remove the partial downloads (.<name>.part files and their state) kept in DIR by "
        "failed or interrupted downloads, except those being downloaded right now.",
    )
    clean.add_argument("directory", metavar="DIR", help="the directory the videos were downloaded to")
    clean.add_argument(
        "--older-than",
        type=_non_negative_float,
        default=0.0,
        metavar="SECONDS",
        help="only partials untouched for this long (default: all)",
    )
    clean.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    return parser


# -- commands --------------------------------------------------------------------------------------------
def _client(args: argparse.Namespace, sleep: Any = None) -> VideoClient:
    from .client import VideoClient  # httpx and the generated client: not needed for --help

    key = os.environ.get(API_KEY_ENV)
    if not key:
        raise _UsageError(f"{API_KEY_ENV} is not set; export your OpenRouter API key in it")
    return VideoClient(
        api_key=key,
        base_url=args.base_url,
        retry=RetryPolicy(max_attempts=args.max_attempts, sleep=sleep),
        timeout=args.timeout,
    )


def _file_record(result: DownloadResult, with_sha256: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "path": str(result.path),
        "size": result.size,
        "content_type": result.content_type,
        "attempts": result.attempts,
        "resumes": result.resumes,
        "verified": result.verified,
        "resumed_from": result.resumed_from,
    }
    if with_sha256:
        record["sha256"] = result.sha256
    return record


def _print_saved(result: DownloadResult, out: TextIO) -> None:
    resumed = f", resumed from byte {result.resumed_from}" if result.resumed_from else ""
    out.write(
        f"saved {result.path} ({result.size} bytes, {result.content_type or 'unknown type'}, "
        f"complete by {result.verified}{resumed})\n"
    )
    if result.sha256:
        out.write(f"sha256 {result.sha256}\n")


def _download_one(
    client: VideoClient, args: argparse.Namespace, job_id: str, dest: str | Path, index: int, label: str
) -> DownloadResult:
    """One download with a progress bar (on a terminal) and retries shown as notes."""
    bar = _Bar(sys.stderr, label) if _interactive(args) else None
    if not args.quiet:
        _show_retries(bar)
    try:
        return client.download(
            job_id,
            dest,
            index=index,
            overwrite=args.overwrite,
            on_progress=bar,
            checksum="sha256" if args.sha256 else None,
            max_connections=args.connections,
        )
    finally:
        if bar is not None:
            bar.close()


def _download(args: argparse.Namespace) -> int:
    with _client(args) as client:
        result = _download_one(client, args, args.job_id, args.output or os.curdir, args.index, args.job_id)
    if args.json:
        sys.stdout.write(json.dumps(_file_record(result, args.sha256)) + "\n")
    elif not args.quiet:
        _print_saved(result, sys.stdout)
    return EXIT_OK


def _job_record(job: VideoJob) -> dict[str, Any]:
    return dict(job.raw) if job.raw else {"id": job.id, "status": job.status}


def _generate(args: argparse.Namespace) -> int:
    from ._options import request_body
    from .io.files import ensure_directory

    options = {
        key: value
        for key, value in (
            ("duration", args.duration),
            ("resolution", args.resolution),
            ("aspect_ratio", args.aspect_ratio),
        )
        if value is not None
    }
    request_body(args.model, args.prompt, options)  # a bad option: refused before anything else
    directory = ensure_directory(args.output)  # made (or refused) before the paid job is submitted
    spinner = _Spinner(sys.stderr) if _interactive(args) else None
    if not args.quiet:
        _show_retries(None)
    with _client(args, sleep=spinner.sleep if spinner else None) as client:
        job: VideoJob | None = None
        index = 0
        try:
            try:
                job = client.generate(args.model, args.prompt, **options)
                if spinner is not None:
                    spinner.status(job)
                job = client.wait(
                    job,
                    poll_interval=args.poll_interval,
                    timeout=args.wait_timeout,
                    on_status=spinner.status if spinner else None,
                )
            finally:
                if spinner is not None:
                    spinner.close()
            results = []
            for index in range(max(1, job.outputs)):
                results.append(_download_one(client, args, job.id, directory, index, f"{job.id} [{index}]"))
        except BaseException as exc:
            if job is not None and not isinstance(exc, VideoJobFailedError):
                # the job is paid for: say how to get it without submitting (and paying for) another
                exc.paid_job = job.id  # type: ignore[attr-defined]
                exc.resume_command = _download_command(args, job.id, directory, index)  # type: ignore[attr-defined]
            raise
    if args.json:
        record = {"job": _job_record(job), "files": [_file_record(r, args.sha256) for r in results]}
        sys.stdout.write(json.dumps(record) + "\n")
    elif not args.quiet:
        for result in results:
            _print_saved(result, sys.stdout)
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    if not args.quiet:
        _show_retries(None)
    with _client(args) as client:
        job = client.get_job(args.job_id)
    if args.json:
        sys.stdout.write(json.dumps(_job_record(job)) + "\n")
        return EXIT_OK
    line = f"{job.id}: {job.status}"
    if job.outputs:
        line += f" ({job.outputs} output{'s' if job.outputs != 1 else ''})"
    if job.error:
        line += f": {job.error}"
    sys.stdout.write(line + "\n")
    return EXIT_OK


def _models(args: argparse.Namespace) -> int:
    if not args.quiet:
        _show_retries(None)
    with _client(args) as client:
        models = client.list_models()
    if args.json:
        sys.stdout.write(json.dumps([dict(m.raw) for m in models]) + "\n")
        return EXIT_OK
    rows = [("MODEL", "NAME", "DURATIONS (s)", "RESOLUTIONS", "ASPECT RATIOS")]
    for m in models:
        rows.append(
            (
                m.id,
                m.name,
                ",".join(str(d) for d in m.supported_durations) or "-",
                ",".join(m.supported_resolutions) or "-",
                ",".join(m.supported_aspect_ratios) or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        sys.stdout.write(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n"
        )
    return EXIT_OK


def _clean(args: argparse.Namespace) -> int:
    from .io.journal import cleanup_partials

    directory = Path(args.directory)
    if not directory.is_dir():
        raise _UsageError(f"not a directory: {directory}")
    removed = cleanup_partials(directory, older_than=args.older_than)
    if not args.quiet:
        for path in removed:
            sys.stdout.write(f"removed {path}\n")
        sys.stdout.write(f"{len(removed)} file{'s' if len(removed) != 1 else ''} removed\n")
    return EXIT_OK


_COMMANDS = {
    "download": _download,
    "generate": _generate,
    "status": _status,
    "models": _models,
    "clean": _clean,
}


def _line(message: str) -> str:
    return " ".join(message.split())  # always one line


#: For :func:`_printable`: each C0 control, DEL and C1 control as ``\xNN``, each bidi embedding,
#: override or isolate (U+202A-U+202E, U+2066-U+2069) as ``\uNNNN``.
_UNPRINTABLE: dict[int, str] = {
    **{code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))},
    **{code: f"\\u{code:04x}" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))},
}


def _printable(text: str) -> str:
    """``text`` made safe to echo to a terminal, on one line.

    A message may carry what a server said (an error body), so no byte of it may drive the terminal.
    Runs of whitespace, including tab, newline, CR, VT, FF, the C0 separators U+001C-U+001F, NEL
    (U+0085) and U+2028/U+2029, become one space. Every other control character is shown escaped,
    Python-style: C0 controls, DEL and C1 controls (U+0080-U+009F) as ``\\xNN`` (ESC is ``\\x1b``,
    BEL ``\\x07``, NUL ``\\x00``), and the bidi embeddings, overrides and isolates (U+202A-U+202E,
    U+2066-U+2069) as ``\\uNNNN``. The text stays readable; ``\\x1b[2J`` no longer clears the screen.
    """
    return _line(text).translate(_UNPRINTABLE)


def _error(message: str) -> None:
    """Write ``error: MESSAGE`` to stderr as one line, control characters neutralised (:func:`_printable`)."""
    sys.stderr.write(f"error: {_printable(redact(message))}\n")


def _download_command(args: argparse.Namespace, job_id: str, directory: Path, index: int) -> str:
    """The ``openrouter-video download`` command that fetches (or resumes) output ``index``."""
    import shlex

    argv = ["openrouter-video", "download", job_id, "-o", str(directory)]
    if index:
        argv += ["--index", str(index)]
    if args.base_url:
        argv += ["--base-url", args.base_url]
    return shlex.join(argv)


def _kept(exc: BaseException) -> None:
    """The one line that says a failed download kept its partial file, and how to resume it (after
    ``generate``, without submitting, and paying for, another job); or which paid job to fetch."""
    path = getattr(exc, "partial_path", None)
    command = getattr(exc, "resume_command", None)
    job = getattr(exc, "paid_job", None)
    if path is not None:
        how = f"run {command}" if command else "run the same command again"
        sys.stderr.write(f"note: kept the partial download {_printable(str(path))}; {how} to resume\n")
    elif job is not None:
        sys.stderr.write(
            f"note: job {_printable(job)} was submitted and is paid for; once it has completed, "
            f"download it with: {_printable(command or '')}\n"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)  # exits with 2 on a usage error
    _handle_signals()
    try:
        return _COMMANDS[args.command](args)
    except _Terminated as exc:
        _error(f"terminated by {signal.Signals(exc.signum).name}")
        _kept(exc)
        return 128 + exc.signum
    except KeyboardInterrupt as exc:
        _error("interrupted")
        _kept(exc)
        return EXIT_INTERRUPTED
    except (_UsageError, InvalidRequestError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    except FileExistsError as exc:
        _error(f"{exc.args[0] if exc.args else exc}".replace("pass overwrite=True", "use --overwrite"))
        return EXIT_FAILURE
    except (OpenRouterVideoError, OSError) as exc:
        _error(str(exc) or type(exc).__name__)
        _kept(exc)
        return EXIT_FAILURE
    except Exception as exc:  # a bug: still one line, never a traceback (the key is never in it)
        _error(f"unexpected {type(exc).__name__}: {exc}")
        _kept(exc)
        return EXIT_FAILURE


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
