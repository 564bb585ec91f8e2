#!/usr/bin/env bash
# Builds the wheel, installs it (base install, no extras) into a fresh venv outside the
# repository, and runs the studio from an empty folder: the shipped presets by name, the demo,
# the automatic face mask and an export of a shipped preset on a miniature of the reference
# generator's dataset/ folder. `make test` runs it; it needs the package registry for the
# dependencies (pip's cache makes later runs fast).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
py=${1:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$py" -m pip wheel -q --no-deps -w "$work/dist" "$here" 2>&1 | grep -v -e '^WARNING' -e 'Location' || true
"$py" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check "$work"/dist/*.whl \
  2>&1 | grep -v -e '^WARNING' -e 'Location' || true
cd "$work"
vpy="$work/venv/bin/python"
studio="$work/venv/bin/studio"
where=$("$vpy" -c "import studio; print(studio.__file__)")
case "$where" in "$work"/venv/*) ;; *) echo "wheel check: studio imported from $where"; exit 1 ;; esac

"$studio" --version
"$studio" presets
"$studio" demo --out demo >/dev/null
test -s demo/contact_sheet.png
sample=$("$vpy" -c "from studio.core.io.paths import samples; print(samples().faces / 'grace_hopper.jpg')")
"$studio" facemask "$sample" --out mask.png
test -s mask.png
# the reference dataset/ organisation, made from the installed samples
"$vpy" - <<'PY'
from pathlib import Path
import cv2
from studio.core.io.paths import samples
from studio.core.sources import open_source

data = Path("dataset")


def write_pair(name, stem, rgb, mask):
    """One image of the X_img/ + X_mask/ sibling folders of the reference organisation."""
    img, msk = data / f"{name}_img", data / f"{name}_mask"
    img.mkdir(parents=True, exist_ok=True)
    msk.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(img / f"{stem}.jpg"), rgb[:, :, ::-1])
    cv2.imwrite(str(msk / f"{stem}.png"), mask)


faces = open_source(samples().faces.parent, "faces")
for item in faces.ids():
    face = faces.load(item)
    write_pair("CelebAMask-HQ-WO-Train", Path(item).stem, face.image, face.mask.astype("uint8") * 255)
occluders = open_source(samples().occluders, "occluders")
for item in occluders.ids():
    occ = occluders.load(item)
    write_pair("11k-hands", Path(item).stem, occ.image, occ.alpha)
PY
"$studio" export natocc-hands --data dataset --out hands --count 4 --workers 2 --progress none
"$studio" verify hands
echo "wheel check: ok (installed $(basename "$work"/dist/*.whl) and ran it from an empty folder)"
