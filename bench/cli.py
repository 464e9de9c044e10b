"""How long the `hxpulse` command takes to start: `hxpulse --help`, against a bare interpreter.

Run: `.venv/bin/python bench/cli.py [--runs 15] [--args "pulse --help"]`. Runs
`python -m hxpulse --help` (or the given arguments) in a fresh process `runs` times, each
alternated with `python -c pass` in the same run (the interpreter's own start-up on this
machine, for scale), after one warm-up of each; prints both medians and the target. Exit
status 1 when the median (of `hxpulse --help`, or of the given arguments) is 0.5 s or more:
the issue's goal. A `COMMAND --help` takes longer than the top-level help: typer parses the
`--db` option first, and its option parsing imports pydantic.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import time

TARGET = 0.5


def wall(argv: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--args", default="--help", help="What to pass to hxpulse.")
    args = parser.parse_args()
    command = [sys.executable, "-m", "hxpulse", *shlex.split(args.args)]
    bare = [sys.executable, "-c", "pass"]
    wall(command), wall(bare)  # warm up: compiled files, the page cache
    times: dict[str, list[float]] = {"hxpulse": [], "bare": []}
    for _ in range(args.runs):
        times["hxpulse"].append(wall(command))
        times["bare"].append(wall(bare))
    cli, python = statistics.median(times["hxpulse"]), statistics.median(times["bare"])
    print(f"{args.runs} runs each, medians")
    print(f"hxpulse {args.args:<14}: {cli:.3f} s (fastest {min(times['hxpulse']):.3f} s)")
    print(f"python -c pass        : {python:.3f} s")
    print(f"target                : < {TARGET} s for hxpulse {args.args}")
    met = cli < TARGET
    print("met" if met else "MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
