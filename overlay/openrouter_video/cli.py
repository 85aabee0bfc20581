"""The ``openrouter-video`` command (also ``python -m openrouter_video``).

::

    openrouter-video download JOB_ID [-o PATH] [--index N] [--overwrite] [--max-attempts N]
                                     [--timeout SECONDS] [--base-url URL] [--sha256] [--quiet] [--json]

The API key is read only from ``OPENROUTER_API_KEY`` and never printed. Exit codes: 0 on success,
1 on any failure (an API error after retries, network, integrity, destination exists), 2 on a usage
error (including a missing key), 130 on Ctrl-C. A failure prints one line, ``error: ...``, on stderr.

The progress bar (on stderr, only when it is a terminal) uses tqdm, from the ``cli`` extra
(``pip install 'openrouter-video[cli]'``); without tqdm the command works and shows no bar.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from ._config import API_KEY_ENV, BASE_URL_ENV
from ._retry import RetryPolicy
from .errors import OpenRouterVideoError

if TYPE_CHECKING:
    from .client import DownloadResult, ProgressCallback

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


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


def _progress(args: argparse.Namespace, stream: TextIO) -> _Bar | None:
    if args.quiet or not stream.isatty():
        return None
    try:
        return _Bar(stream, args.job_id)
    except ImportError:
        return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openrouter-video",
        description="Download generated videos from OpenRouter's Video Generation API: streamed, "
        "resumable, atomic.",
        epilog=f"The API key is read from ${API_KEY_ENV} (there is no flag for it). "
        "Exit codes: 0 ok, 1 failure, 2 usage error, 130 interrupted.",
    )
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
        help="file to write, or an existing directory (default: ./<JOB_ID>.mp4, "
        "or ./<JOB_ID>-<INDEX>.mp4 when --index > 0; the job id is made a safe file name)",
    )
    download.add_argument(
        "--index", type=_non_negative, default=0, metavar="N", help="output index (default 0)"
    )
    download.add_argument("--overwrite", action="store_true", help="replace an existing file")
    download.add_argument(
        "--max-attempts",
        type=_positive,
        default=RetryPolicy().max_attempts,
        metavar="N",
        help="requests in a row without progress before giving up (default %(default)s)",
    )
    download.add_argument(
        "--timeout",
        type=_positive_float,
        default=60.0,
        metavar="SECONDS",
        help="connect and read timeout; a stalled download is resumed (default %(default)s)",
    )
    download.add_argument(
        "--base-url",
        metavar="URL",
        help=f"API root (default ${BASE_URL_ENV}, else https://openrouter.ai/api/v1)",
    )
    download.add_argument(
        "--sha256", action="store_true", help="compute the file's SHA-256 while downloading"
    )
    download.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no output on success")
    download.add_argument("--json", action="store_true", help="print the result as one JSON object on stdout")
    return parser


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _report(args: argparse.Namespace, result: DownloadResult, out: TextIO) -> None:
    if args.json:
        record: dict[str, Any] = {
            "path": str(result.path),
            "size": result.size,
            "content_type": result.content_type,
            "attempts": result.attempts,
            "resumes": result.resumes,
        }
        if args.sha256:
            record["sha256"] = result.sha256
        out.write(json.dumps(record) + "\n")
    elif not args.quiet:
        out.write(f"saved {result.path} ({result.size} bytes, {result.content_type or 'unknown type'})\n")
        if result.sha256:
            out.write(f"sha256 {result.sha256}\n")


def _show_retries(bar: _Bar | None) -> None:
    """Print each retry of the ``openrouter_video`` logger as a ``note:`` line on stderr."""

    class Notes(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            line = f"note: {record.getMessage()}"
            if bar is not None:
                bar.write(line)
            else:
                sys.stderr.write(line + "\n")

    logger = logging.getLogger("openrouter_video")
    logger.addHandler(Notes(logging.WARNING))
    logger.propagate = False


def _error(message: str) -> None:
    first_line = " ".join(message.split())  # always one line
    sys.stderr.write(f"error: {first_line}\n")


def _download(args: argparse.Namespace) -> int:
    from .client import VideoClient  # httpx and the generated client: not needed for --help

    key = os.environ.get(API_KEY_ENV)
    if not key:
        _error(f"{API_KEY_ENV} is not set; export your OpenRouter API key in it")
        return EXIT_USAGE
    bar = _progress(args, sys.stderr)
    on_progress: ProgressCallback | None = bar
    if not args.quiet:
        _show_retries(bar)
    try:
        with VideoClient(
            api_key=key,
            base_url=args.base_url,
            retry=RetryPolicy(max_attempts=args.max_attempts),
            timeout=args.timeout,
        ) as client:
            result = client.download(
                args.job_id,
                args.output or os.curdir,
                index=args.index,
                overwrite=args.overwrite,
                on_progress=on_progress,
                checksum="sha256" if args.sha256 else None,
            )
    finally:
        if bar is not None:
            bar.close()
    _report(args, result, sys.stdout)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)  # exits with 2 on a usage error
    try:
        return _download(args)
    except KeyboardInterrupt:
        _error("interrupted; nothing was written")
        return EXIT_INTERRUPTED
    except FileExistsError as exc:
        _error(f"{exc.args[0] if exc.args else exc}".replace("pass overwrite=True", "use --overwrite"))
        return EXIT_FAILURE
    except (OpenRouterVideoError, OSError) as exc:
        _error(str(exc) or type(exc).__name__)
        return EXIT_FAILURE


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
