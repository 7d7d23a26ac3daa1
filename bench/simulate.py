"""How long `pledge simulate` takes for a force-sized rehearsal, on both engines.

    python bench/simulate.py [--cases 1000] [--seed 7] [--in-process-only]

Generates one year of realistic history (engine/year.py: cases reported through 2026,
officers assigned, contacts and updates, arrests, charges, closures, and cases nobody
touches), runs the real `pledge simulate` on it with the in-process engine (the
default) and with `--engine temporal`, side by side in this one run, checks that both
print the same JSON, and prints both times and their ratio against the 50x target.
`--in-process-only` times the in-process engine alone, against the 60-second target
for 100,000 cases (the Temporal engine would take hours there).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.year import generated_year

ROOT = Path(__file__).resolve().parents[1]
SPEED_UP_TARGET = 50
SECONDS_TARGET = 60


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def simulate(path: Path, output: Path, *args: str) -> tuple[float, float]:
    """Seconds `pledge simulate` takes, on the clock and in CPU (its processes and the
    servers they start: on a shared machine the CPU is the fairer figure), its JSON
    written to `output`."""
    cpu_before = children_cpu()
    started = time.perf_counter()
    with output.open("w") as out:
        result = subprocess.run(
            [sys.executable, "-m", "cli.main", "simulate", str(path), *args],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            timeout=3 * 3600,
            check=False,
        )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"pledge simulate {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return seconds, children_cpu() - cpu_before


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--in-process-only", action="store_true")
    args = parser.parse_args()
    scenario = generated_year(args.cases, args.seed)
    with tempfile.TemporaryDirectory(prefix="pledge-bench-sim-") as scratch:
        path = Path(scratch) / "year.json"
        path.write_text(json.dumps(scenario))
        in_process_json = Path(scratch) / "in-process.json"
        in_process, in_process_cpu = simulate(path, in_process_json)
        temporal = temporal_cpu = None
        same = None
        if not args.in_process_only:
            temporal_json = Path(scratch) / "temporal.json"
            temporal, temporal_cpu = simulate(path, temporal_json, "--engine", "temporal")
            same = in_process_json.read_bytes() == temporal_json.read_bytes()
        size = in_process_json.stat().st_size
        outcome = json.loads(in_process_json.read_text())
    obligations = sum(len(c["obligations"]) for c in outcome["cases"])
    print(f"cases:             {len(scenario['cases'])}")
    print(f"events:            {len(scenario['events'])}")
    print(f"obligations:       {obligations}")
    print(f"messages:          {len(outcome['messages'])}")
    print(f"alerts:            {len(outcome['alerts'])}")
    print(f"rejected events:   {len(outcome.get('rejected_events', []))}")
    print(f"output:            {size / 1e6:.1f} MB of JSON")
    per_case = in_process / len(scenario["cases"]) * 1000
    target = (
        f"; target < {SECONDS_TARGET} s, {in_process / SECONDS_TARGET:.2f} of target"
        if args.cases == 100_000
        else ""
    )
    print(
        f"in-process:        {in_process:.1f} s, {in_process_cpu:.1f} s CPU   "
        f"({per_case:.2f} ms a case{target})"
    )
    if temporal is not None and temporal_cpu is not None:
        ratio = temporal / in_process
        cpu_ratio = temporal_cpu / in_process_cpu
        print(f"--engine temporal: {temporal:.1f} s, {temporal_cpu:.1f} s CPU")
        print(
            f"speed-up:          {ratio:.1f}x on the clock, {cpu_ratio:.1f}x in CPU   "
            f"(target {SPEED_UP_TARGET}x; {ratio / SPEED_UP_TARGET:.2f} of target)"
        )
        print(f"identical JSON:    {'yes' if same else 'NO'}")
        if not same:
            sys.exit("the engines' outputs differ")


if __name__ == "__main__":
    main()
