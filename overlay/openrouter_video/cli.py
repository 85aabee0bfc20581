"""The ``openrouter-video`` command (also ``python -m openrouter_video``): ``download``, ``generate``,
``status``, ``models`` and ``clean``; ``openrouter-video COMMAND --help`` lists each one's options.

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
import contextlib
import json
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

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
    """Make SIGTERM (``docker stop``, ``timeout``) and SIGHUP stop a download the way Ctrl-C does."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):  # not the main thread, or not supported here
            signal.signal(signum, _on_signal)


class _Tqdm:
    """One tqdm line on stderr."""

    def __init__(self, **options: Any) -> None:
        from tqdm import tqdm  # imported only when a bar is shown: keeps --help fast

        self._bar = tqdm(total=None, file=sys.stderr, leave=True, **options)
        self.close = self._bar.close


class _Bar(_Tqdm):
    """A tqdm byte bar that copes with an unknown size and goes back when a download restarts."""

    def __init__(self, description: str) -> None:
        super().__init__(unit="B", unit_scale=True, unit_divisor=1024, desc=description, dynamic_ncols=True)

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


class _Spinner(_Tqdm):
    """A one-line tqdm status (spinner, job id, status, elapsed) animated while ``wait`` sleeps."""

    def __init__(self) -> None:
        super().__init__(bar_format="{desc} [{elapsed}]")
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


def _interactive(args: argparse.Namespace) -> bool:
    if args.quiet or not sys.stderr.isatty():
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


def _show_retries(args: argparse.Namespace, bar: _Bar | None = None) -> None:
    """Unless ``--quiet``, route the library's retries and resumes to stderr as ``note:`` lines
    (above ``bar``, if one is drawn)."""
    if args.quiet:
        return
    logger = logging.getLogger("openrouter_video")
    logger.handlers = [h for h in logger.handlers if not isinstance(h, _Notes)]
    logger.addHandler(_Notes(bar))
    logger.setLevel(logging.INFO)
    logger.propagate = False


# -- arguments -------------------------------------------------------------------------------------------
def _number(kind: type[int] | type[float], floor: int, inclusive: bool = True, most: int = 0) -> Any:
    """An argument type: a ``kind`` from ``floor`` (or above it) up to ``most`` (if given); its message
    says what is wanted in words (argparse would name the function instead)."""
    what = "a whole number" if kind is int else "a number"
    bound = f"{'>=' if inclusive else '>'} {floor}"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = math.nan
        if not (value >= floor if inclusive else value > floor):  # also refuses NaN
            raise argparse.ArgumentTypeError(f"must be {what} {bound}, not {text!r}")
        if most and value > most:
            raise argparse.ArgumentTypeError(f"must be {what} from {floor} to {most}, not {text!r}")
        return value

    return parse


_positive = _number(int, 1)
_positive_float = _number(float, 0, inclusive=False)


def _seconds(
    parser: argparse.ArgumentParser, flag: str, default: float, text: str, kind: Any = _positive_float
) -> None:
    parser.add_argument(flag, type=kind, default=default, metavar="SECONDS", help=text)


def _common(parser: argparse.ArgumentParser, *, downloads: bool = False) -> None:
    """The options of every command but ``clean``, after those of the commands that download."""
    if downloads:
        parser.add_argument("--overwrite", action="store_true", help="replace existing files")
        parser.add_argument(
            "--source",
            choices=("auto", "signed", "api"),
            default="auto",
            help="download from the job's signed URL to OpenRouter's stored copy (signed), from the "
            "content endpoint with the key (api), or the signed URL while it has not expired (auto, "
            "the default; it costs one GET of the job first)",
        )
        parser.add_argument(
            "--sha256", action="store_true", help="compute each file's SHA-256 while downloading"
        )
        parser.add_argument(
            "--connections",
            type=_number(int, 1, most=16),
            metavar="N",
            help=(
                "fetch each video of 2 MiB or more as byte ranges over N connections at once (1 to 16; "
                "for links that cap each connection); 1: one connection (default: up to 4, added while "
                "they pay)"
            ),
        )
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help=f"API root (default ${BASE_URL_ENV}, else https://openrouter.ai/api/v1)",
    )
    stalls = "; a download that stalls this long is resumed" if downloads else ""
    _seconds(parser, "--timeout", 60.0, f"connect and read timeout per request{stalls} (default %(default)s)")
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


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="openrouter-video",
        description="Generate videos with OpenRouter's Video Generation API and download them: "
        "streamed, resumable, atomic.",
        epilog=f"The API key is read from ${API_KEY_ENV} (there is no flag for it). "
        "Exit codes: 0 ok, 1 failure, 2 usage error, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
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
        "--index", type=_number(int, 0), default=0, metavar="N", help="output index (default 0)"
    )
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
        "--continue",
        dest="previous_job_id",
        metavar="JOB",
        help="continue (edit or extend) the completed job JOB (the request's previous_job_id)",
    )
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
    _seconds(generate, "--poll-interval", 5.0, "default %(default)s")
    _seconds(
        generate,
        "--wait-timeout",
        1800.0,
        "give up waiting for the job after this long (default %(default)s)",
    )
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
    _seconds(
        clean, "--older-than", 0.0, "only partials untouched for this long (default: all)", _number(float, 0)
    )
    clean.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    return parser


# -- commands --------------------------------------------------------------------------------------------
def _client(args: argparse.Namespace, sleep: Any = None) -> VideoClient:
    """A client for ``args`` (its retries shown as notes)."""
    from .client import VideoClient  # httpx and the generated client: not needed for --help

    key = os.environ.get(API_KEY_ENV)
    if not key:
        raise _UsageError(f"{API_KEY_ENV} is not set; export your OpenRouter API key in it")
    _show_retries(args)
    return VideoClient(
        api_key=key,
        base_url=args.base_url,
        retry=RetryPolicy(max_attempts=args.max_attempts, sleep=sleep),
        timeout=args.timeout,
    )


_FILE_FIELDS = ("path", "size", "content_type", "attempts", "resumes", "verified", "resumed_from", "source")


def _file_record(result: DownloadResult, with_sha256: bool) -> dict[str, Any]:
    names = _FILE_FIELDS + (("sha256",) if with_sha256 else ())
    return {name: getattr(result, name) for name in names} | {"path": str(result.path)}  # keeps its place


def _print_json(value: Any) -> int:
    """``value`` as JSON, signed URLs' signatures redacted (as from every line the CLI prints)."""
    sys.stdout.write(redact(json.dumps(value)) + "\n")
    return EXIT_OK


def _report(args: argparse.Namespace, results: list[DownloadResult], record: Any) -> int:
    """Print ``record`` as JSON with ``--json``; else, unless ``--quiet``, a line for each file saved."""
    if args.json:
        return _print_json(record)
    for result in [] if args.quiet else results:
        resumed = f", resumed from byte {result.resumed_from}" if result.resumed_from else ""
        sys.stdout.write(
            f"saved {result.path} ({result.size} bytes, {result.content_type or 'unknown type'}, "
            f"complete by {result.verified}{resumed})\n"
        )
        if result.sha256:
            sys.stdout.write(f"sha256 {result.sha256}\n")
    return EXIT_OK


def _download_one(
    client: VideoClient,
    args: argparse.Namespace,
    job: VideoJob | str,
    dest: str | Path,
    index: int,
    label: str,
) -> DownloadResult:
    """One download with a progress bar (on a terminal) and retries shown as notes."""
    bar = _Bar(label) if _interactive(args) else None
    _show_retries(args, bar)
    try:
        return client.download(
            job,
            dest,
            index=index,
            source=args.source,
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
    return _report(args, [result], _file_record(result, args.sha256))


def _job_record(job: VideoJob) -> dict[str, Any]:
    return dict(job.raw) if job.raw else {"id": job.id, "status": job.status}


def _generate(args: argparse.Namespace) -> int:
    from ._options import request_body
    from .io.files import ensure_directory

    names = ("duration", "resolution", "aspect_ratio", "previous_job_id")
    options = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    request_body(args.model, args.prompt, options)  # a bad option: refused before anything else
    directory = ensure_directory(args.output)  # made (or refused) before the paid job is submitted
    spinner = _Spinner() if _interactive(args) else None
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
                results.append(_download_one(client, args, job, directory, index, f"{job.id} [{index}]"))
        except BaseException as exc:
            if job is not None and not isinstance(exc, VideoJobFailedError):
                # the job is paid for: say how to get it without submitting (and paying for) another
                exc.paid_job = job.id  # type: ignore[attr-defined]
                exc.resume_command = _download_command(args, job.id, directory, index)  # type: ignore[attr-defined]
            raise
    record = {"job": _job_record(job), "files": [_file_record(r, args.sha256) for r in results]}
    return _report(args, results, record)


def _status(args: argparse.Namespace) -> int:
    with _client(args) as client:
        job = client.get_job(args.job_id)
    if args.json:
        return _print_json(_job_record(job))
    line = f"{job.id}: {job.status}"
    if job.outputs:
        line += f" ({job.outputs} output{'s' if job.outputs != 1 else ''})"
    if job.error:
        line += f": {job.error}"
    if job.expires_at is not None:
        line += f"; stored until {job.expires_at:%Y-%m-%d %H:%M:%S %Z}"
    sys.stdout.write(line + "\n")
    return EXIT_OK


def _models(args: argparse.Namespace) -> int:
    with _client(args) as client:
        models = client.list_models()
    if args.json:
        return _print_json([dict(m.raw) for m in models])
    rows: list[tuple[str, ...]] = [("MODEL", "NAME", "DURATIONS (s)", "RESOLUTIONS", "ASPECT RATIOS")]
    for m in models:
        lists = ([str(d) for d in m.supported_durations], m.supported_resolutions, m.supported_aspect_ratios)
        rows.append((m.id, m.name, *(",".join(values) or "-" for values in lists)))
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


_UNPRINTABLE: dict[int, str] = {
    **{code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))},
    **{code: f"\\u{code:04x}" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))},
}


def _printable(text: str) -> str:
    """``text`` (which may carry what a server said) made safe to echo to a terminal, on one line: runs
    of whitespace (also NEL, U+2028/U+2029, U+001C-U+001F) become one space; other C0/C1 controls and
    DEL are shown as ``\\xNN``, bidi embeddings, overrides and isolates as ``\\uNNNN``."""
    return " ".join(text.split()).translate(_UNPRINTABLE)


def _error(message: str, exc: BaseException | None = None) -> None:
    """Write ``error: MESSAGE`` to stderr as one line (:func:`_printable`); then, if ``exc`` says so, the
    line that says a failed download kept its partial file and how to resume it (after ``generate``,
    without submitting, and paying for, another job), or which paid job to fetch."""
    sys.stderr.write(f"error: {_printable(redact(message))}\n")
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


def _download_command(args: argparse.Namespace, job_id: str, directory: Path, index: int) -> str:
    """The ``openrouter-video download`` command that fetches (or resumes) output ``index``."""
    import shlex

    argv = ["openrouter-video", "download", job_id, "-o", str(directory)]
    if index:
        argv += ["--index", str(index)]
    if args.source != "auto":
        argv += ["--source", args.source]
    if args.base_url:
        argv += ["--base-url", args.base_url]
    return shlex.join(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)  # exits with 2 on a usage error
    _handle_signals()
    try:
        return _COMMANDS[args.command](args)
    except _Terminated as exc:
        _error(f"terminated by {signal.Signals(exc.signum).name}", exc)
        return 128 + exc.signum
    except KeyboardInterrupt as exc:
        _error("interrupted", exc)
        return EXIT_INTERRUPTED
    except (_UsageError, InvalidRequestError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    except FileExistsError as exc:
        _error(f"{exc.args[0] if exc.args else exc}".replace("pass overwrite=True", "use --overwrite"))
        return EXIT_FAILURE
    except (OpenRouterVideoError, OSError) as exc:
        _error(str(exc) or type(exc).__name__, exc)
        return EXIT_FAILURE
    except Exception as exc:  # a bug: still one line, never a traceback (the key is never in it)
        _error(f"unexpected {type(exc).__name__}: {exc}", exc)
        return EXIT_FAILURE


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
