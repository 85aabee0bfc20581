"""`make demo`: the whole flow through the CLI against an embedded local stand-in of the API.

Starts openrouter_video.testing.FakeOpenRouter on 127.0.0.1 with a job whose output is
demo/sample.mp4 (3 s, H.264/AAC), then runs `openrouter-video generate`: it submits the job, waits
with a status spinner while the job goes pending -> in_progress -> completed, and downloads the
output with the progress bar. The video is served at a modest rate with one cut connection, so that
the resume is visible. Finally it checks that the file is an ISO-BMFF file (an `ftyp` box first)
identical to the sample, and prints its path, size and sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
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
        fake.script_job(outputs=[data], statuses=["pending", "in_progress", "in_progress", "completed"])
        fake.rate = len(data) / 2.0  # about two seconds, so the bar can be seen
        fake.enqueue(Cut(at=len(data) // 3))  # one cut, resumed with a Range request
        print(f"fake OpenRouter API at {fake.base_url}", file=sys.stderr)
        env = {**os.environ, "OPENROUTER_API_KEY": fake.api_key}
        command = [
            "openrouter-video", "generate", "--model", "google/veo-3.1",
            "--prompt", "A serene mountain landscape at sunset", "--duration", "8",
            "-o", "demo-output", "--overwrite", "--sha256", "--json", "--poll-interval", "0.5",
            "--base-url", fake.base_url,
        ]  # fmt: skip
        print("$ OPENROUTER_API_KEY=... " + shlex.join(command), file=sys.stderr)
        # The spinner and progress bar go to stderr (shown when it is a terminal); JSON to stdout.
        result = subprocess.run(
            [str(CLI), *command[1:]], env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True
        )
    record = json.loads(result.stdout)
    (output,) = record["files"]
    path = ROOT / output["path"]
    written = path.read_bytes()
    assert written[4:8] == b"ftyp", "the file does not start with an ISO-BMFF ftyp box"
    assert written == data, "the file differs from the sample"
    assert output["sha256"] == hashlib.sha256(data).hexdigest()
    print(f"job    {record['job']['id']} ({record['job']['status']})")
    print(f"path   {output['path']}")
    print(f"size   {output['size']} bytes ({output['content_type']}, starts with an 'ftyp' box)")
    print(f"sha256 {output['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
