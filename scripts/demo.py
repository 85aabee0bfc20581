"""`make demo`: download a real MP4 through the CLI from an embedded local stand-in of the API.

Starts openrouter_video.testing.FakeOpenRouter on 127.0.0.1 with demo/sample.mp4 (3 s, H.264/AAC),
serving it at a modest rate and cutting the connection once so that the resume is visible, then runs
`openrouter-video download` against it with the progress bar, checks that the file written is an
ISO-BMFF file (an `ftyp` box first) identical to the sample, and prints its path, size and sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from openrouter_video.testing import Cut, FakeOpenRouter

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "demo" / "sample.mp4"
OUT_DIR = ROOT / "demo-output"
CLI = Path(sys.executable).parent / "openrouter-video"


def main() -> int:
    data = SAMPLE.read_bytes()
    OUT_DIR.mkdir(exist_ok=True)
    with FakeOpenRouter() as fake:
        fake.add_video("job-demo", data)
        fake.rate = len(data) / 2.0  # about two seconds, so the bar can be seen
        fake.enqueue(Cut(at=len(data) // 3))  # one cut, resumed with a Range request
        print(f"fake OpenRouter API at {fake.base_url}", file=sys.stderr)
        env = {**os.environ, "OPENROUTER_API_KEY": fake.api_key}
        command = [
            "openrouter-video",
            "download",
            "job-demo",
            "-o",
            "demo-output",
            "--overwrite",
            "--sha256",
            "--json",
            "--base-url",
            fake.base_url,
        ]
        print("$ OPENROUTER_API_KEY=... " + " ".join(command), file=sys.stderr)
        # The progress bar goes to stderr (shown when it is a terminal); the JSON result to stdout.
        result = subprocess.run(
            [str(CLI), *command[1:]], env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True
        )
    record = json.loads(result.stdout)
    path = Path(record["path"])
    written = path.read_bytes()
    assert written[4:8] == b"ftyp", "the file does not start with an ISO-BMFF ftyp box"
    assert written == data, "the file differs from the sample"
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    print(f"path   {path}")
    print(f"size   {record['size']} bytes ({record['content_type']}, starts with an 'ftyp' box)")
    print(f"sha256 {record['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
