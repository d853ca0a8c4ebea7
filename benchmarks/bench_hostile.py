"""Time and memory of every hostile upload through the CLI (issue 9: ≤ 30 s, ≤ 1 GB extra).

Writes the corpus of ``tests/hostile/corpus.py`` at full size (``--full``: the 146 MB-class
``.osm``, the 4 M-node PBF lattice and 200,000-row facility lists included), then runs each file
through each CLI option it targets as a new process, with a kill timer (``--timeout``, 120 s).
For every run it prints the exit code, the wall time, the peak resident memory and the extra
memory over the same command without the file (the baseline), and the first words of the
message.  Rows over 30 s or 1 GB extra are marked ``OVER``.

Run: ``.venv/bin/python -m benchmarks.bench_hostile [--full] [--only NAME] [--timeout 120]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.hostile.channels import CLI
from tests.hostile.corpus import cases

TIME_LIMIT_S = 30.0
EXTRA_LIMIT_MB = 1024.0


def _run(argv: list[str], timeout: float, env: dict[str, str]) -> tuple[int, float, float, str]:
    """Exit code (or -9 when killed), wall seconds, peak resident MB and stderr of one process."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gridplan", *argv, "--lang", "zh"],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            start_new_session=True,
        )
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        err.seek(0)
        text = err.read().decode("utf-8", "replace").strip()
    rc = os.waitstatus_to_exitcode(status)
    return rc, wall, usage.ru_maxrss / 1024.0, text


def _baseline_argv(channel: str) -> list[str]:
    """The channel's command without its file option (the memory every run has anyway)."""
    argv = CLI[channel]("X")
    i = argv.index("X")
    return argv[: i - 1] + argv[i + 1 :]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--full", action="store_true", help="the full-size files of the issue")
    ap.add_argument("--only", default="", help="only files whose name contains this")
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gridplan-hostile-") as tmp:
        env = {**os.environ, "TMPDIR": tmp}
        folder = Path(tmp) / "corpus"
        # written by another process: a child forked from a big parent would report the
        # parent's peak memory as its own (Linux keeps the high-water mark across exec)
        subprocess.run(
            [sys.executable, "-m", "tests.hostile.corpus", str(folder), *(["--full"] * args.full)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        files = [(case, folder / case.name) for case in cases(args.full)]
        baselines: dict[str, float] = {}
        print(f"{'file':30} {'option':16} {'rc':>3} {'s':>6} {'MB':>6} {'extra':>6}  message")
        for case, path in files:
            if args.only not in case.name or case.upload_name is not None:
                continue
            for channel in case.channels:
                if channel not in CLI:
                    continue
                if channel not in baselines:
                    baselines[channel] = _run(_baseline_argv(channel), args.timeout, env)[2]
                rc, wall, mb, text = _run(CLI[channel](str(path)), args.timeout, env)
                extra = mb - baselines[channel]
                over = "OVER" if wall > TIME_LIMIT_S or extra > EXTRA_LIMIT_MB or rc == -9 else ""
                msg = text.splitlines()[-1][:70] if text else ""
                print(
                    f"{case.name[:30]:30} {channel:16} {rc:>3} {wall:6.1f} {mb:6.0f} "
                    f"{extra:6.0f}  {over} {msg}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
