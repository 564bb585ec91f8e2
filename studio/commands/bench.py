"""``studio bench``: run the benchmarks and print a table (or JSON)."""

from __future__ import annotations

import argparse
import importlib
import json

from studio.bench import BACKEND_SUITES, SUITES
from studio.bench.common import BenchRow, machine
from studio.commands.flags import add_backend
from studio.core.model.errors import BackendError
from studio.core.ops.backend import get_backend


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="run the benchmarks",
        description="Run the benchmarks. Ratios are measured side by side in one run; "
        "absolute figures depend on the machine, which is printed with them.",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--quick", action="store_true", help="fewer repetitions")
    p.add_argument("--suite", action="append", choices=SUITES, help="only these suites")
    add_backend(p, default="cpu")  # cuda: the suites that measure the CUDA backend
    p.set_defaults(func=run)


def _format(rows: list[BenchRow]) -> str:
    name_w = max([len("figure"), *(len(r.name) for r in rows)])
    target_w = max([len("target"), *(len(r.target) for r in rows)])
    unit_w = max([1, *(len(r.unit) for r in rows)])
    lines = [
        f"{'suite':<8} {'figure':<{name_w}} {'value':>11} {'':<{unit_w}}  "
        f"{'target':<{target_w}}  ok   note"
    ]
    for r in rows:
        ok = "" if r.ok is None else ("yes" if r.ok else "NO")
        lines.append(
            f"{r.suite:<8} {r.name:<{name_w}} {r.value:>11.3f} {r.unit:<{unit_w}}  "
            f"{r.target:<{target_w}}  {ok:<4} {r.note}"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    # --backend cuda measures CUDA or refuses: never the CPU under a CUDA label
    backend = "cpu" if args.backend == "cpu" else get_backend(args.backend).name
    suites = args.suite or (SUITES if backend == "cpu" else BACKEND_SUITES)
    cpu_only = [name for name in suites if name not in BACKEND_SUITES]
    if backend != "cpu" and cpu_only:
        raise BackendError(
            f"suite {', '.join(cpu_only)} measures the CPU only: leave out --backend "
            f"{args.backend}, or run --suite {' --suite '.join(BACKEND_SUITES)}"
        )
    rows: list[BenchRow] = []
    for name in suites:
        module = importlib.import_module(f"studio.bench.{name}")
        rows += module.run(quick=args.quick, backend=backend)
    info = machine()
    if args.json:
        print(json.dumps({"machine": info, "rows": [r.to_dict() for r in rows]}, indent=2))
    else:
        print(f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}")
        print(_format(rows))
    return 0
