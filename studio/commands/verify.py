"""``studio verify``: check an export folder without changing it."""

from __future__ import annotations

import argparse
import json

from studio.commands.flags import add_storage_options
from studio.core.export.verify import verify_job

SHOWN = 50  #: problems listed before "... and N more"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="check an export folder (files, sizes, hashes) without changing it",
        description="Check every sample an export recorded: its files exist with the sizes "
        "and hashes written, no sample is listed twice, and no file lies in the folder that no "
        "row names. Exit 0 when all is well, 1 with a list when something is wrong or the job "
        "is not finished (continue it with studio export ... --resume, which remakes damaged "
        "samples), 2 when DIR is not an export folder.",
    )
    p.add_argument(
        "dir", help="export folder (with job.json and manifest.jsonl), or its URL (s3://b/prefix)"
    )
    p.add_argument("--sizes-only", action="store_true", help="skip reading files for hashes")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_storage_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    found = verify_job(args.dir, hashes=not args.sizes_only)
    if args.json:
        print(
            json.dumps(
                {
                    "out": str(found.out),
                    "ok": found.ok,
                    "count": found.count,
                    "rows": found.rows,
                    "files": found.files,
                    "failed_samples": found.failed_samples,
                    "not_made": found.not_made,
                    "short": found.short,
                    "problems": found.problems,
                },
                indent=2,
            )
        )
        return 0 if found.ok else 1
    what = "sizes" if args.sizes_only else "sizes and hashes"
    summary = (
        f"{found.rows} samples recorded, {found.files} files checked ({what}), "
        f"{found.failed_samples} failed samples"
    )
    if found.short:
        summary += (
            f"; {found.short} fewer than the {found.count} asked for (its failed draws ran "
            "out of replacements)"
        )
    if found.ok:
        print(f"ok: {found.out}: {summary}")
        return 0
    print(f"problems in {found.out}: {summary}")
    for line in found.problems[:SHOWN]:
        print(f"  {line}")
    if len(found.problems) > SHOWN:
        print(f"  ... and {len(found.problems) - SHOWN} more")
    if found.not_made:
        print(f"  not finished: {found.not_made} of {found.count} samples not made yet")
    if found.problems or found.not_made:
        print("  studio export ... --resume makes the missing and damaged samples again")
    return 1
