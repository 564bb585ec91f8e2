"""``studio validate``: check a preset file, or print the preset JSON Schema."""

from __future__ import annotations

import argparse
import sys

from studio.core.io.paths import preset_path
from studio.core.io.presets import load_preset
from studio.core.io.writers import write_bytes_atomic
from studio.core.model.errors import InputError
from studio.core.model.preset import preset_json_schema


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="check a preset file (or export the preset JSON Schema)",
        description="Validate PRESET.yaml: exit 0 and print a summary when it is usable, "
        "otherwise exit 2 with one line naming the key and the reason.",
    )
    p.add_argument("preset", nargs="?", help="preset YAML file")
    p.add_argument(
        "--schema",
        nargs="?",
        const="-",
        metavar="FILE",
        help="write the JSON Schema of presets to FILE (or stdout) for editor completion",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.schema is not None:
        text = preset_json_schema()
        if args.schema == "-":
            sys.stdout.write(text)
        else:
            write_bytes_atomic(args.schema, text.encode())
            print(f"wrote {args.schema}")
        if not args.preset:
            return 0
    if not args.preset:
        raise InputError("give a preset file to validate, or --schema")
    preset = load_preset(preset_path(args.preset))
    print(
        f"{args.preset}: ok ({preset.mode}, name {preset.name!r}, schema {preset.schema_version})"
    )
    return 0
