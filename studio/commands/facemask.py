"""``studio facemask``: the automatic face-skin mask of a photo."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from studio.commands.flags import add_out
from studio.core.io import facemask, imageio
from studio.core.io.writers import encode_image, write_bytes_atomic
from studio.core.model.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "facemask",
        help="write the automatic face mask of a photo",
        description="Detect the face(s) in IMAGE and write a uint8 0/255 face-skin mask the "
        "size of IMAGE (forehead to chin, without hair where possible). Runs offline on CPU.",
    )
    p.add_argument("image", metavar="IMAGE", help="photo with a face")
    add_out(p, "mask to write (PNG)", metavar="MASK.png")
    p.add_argument(
        "--every-face",
        action="store_true",
        help="mask every face found (default: the largest face only)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise InputError("the mask must be written as .png (lossless)", out)
    image = imageio.read_image(args.image)
    masks = facemask.face_masks(image, every_face=args.every_face)
    if not masks:
        raise InputError("no face found", args.image)
    union = np.logical_or.reduce(masks)
    write_bytes_atomic(out, encode_image(union.astype(np.uint8) * 255, "png"))
    faces = f"{len(masks)} faces" if len(masks) > 1 else "1 face"
    print(f"wrote {out} ({faces}, {union.mean():.1%} of the image)")
    return 0
