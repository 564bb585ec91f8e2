#!/usr/bin/env bash
# An honest `studio compare` on the data that ships with the studio (resources/samples):
# train on two of the three photos, test on the third, occluded by objects no training
# preset uses. Only 3 photos exist, so read the result as a smoke test of the loop, not as
# evidence about real data. Usage: scripts/compare_samples.sh [OUT] [MINUTES]
set -euo pipefail
OUT=${1:-out/compare-samples}
MINUTES=${2:-2}
STUDIO=${STUDIO:-.venv/bin/studio}
S=resources/samples
W="$OUT/inputs"
rm -rf "$W"
mkdir -p "$W"/train/images "$W"/train/masks "$W"/held/images "$W"/held/masks \
         "$W"/occ-train "$W"/occ-test
for f in astronaut cameraman; do
  cp "$S/faces/images/$f.jpg" "$W/train/images/"; cp "$S/faces/masks/$f.png" "$W/train/masks/"
done
cp "$S/faces/images/grace_hopper.jpg" "$W/held/images/"
cp "$S/faces/masks/grace_hopper.png" "$W/held/masks/"
cp "$S"/occluders/{coin_1,coin_2,coin_3,cup,helmet}.png "$W/occ-train/"
cp "$S"/occluders/{navy_cap,rocket,shuttle_model}.png "$W/occ-test/"
# the test set: the held-out photo, 40 times, occluded by the held-out objects (NatOcc + SOT)
"$STUDIO" export presets/demo.yaml --out "$W/test" --faces "$W/held/images" \
  --face-masks "$W/held/masks" --occluders "$W/occ-test" --count 40 --seed 999 --progress none
# baseline (2 unoccluded photos) vs NatOcc (training objects) vs RandOcc (bundled textures)
"$STUDIO" compare presets/demo.yaml presets/randocc.yaml --faces "$W/train" --test "$W/test" \
  --occluders "$W/occ-train" --textures "$S/textures" --count 300 --minutes "$MINUTES" \
  --size 128 --seed 0 --out "$OUT/compare" --progress none
