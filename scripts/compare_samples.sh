#!/usr/bin/env bash
# An honest `studio compare` on the data that ships with the studio (resources/samples): a
# no-occlusion baseline against NatOcc (presets/demo.yaml, with 5 of the 8 bundled objects)
# and RandOcc (presets/randocc.yaml, bundled textures); the test images are occluded by the
# 3 other objects, which no training preset uses, and exported with another seed.
#   held-out: train on astronaut + cameraman, test on grace_hopper (a face never seen)
#   seen:     train on all 3 photos, test on the same 3 photos occluded by the unseen objects
#             (isolates what the presets add, handling occluders, from face generalisation)
# Only 3 photos exist: read the results as a smoke test of the loop, not as evidence about
# real data. Usage: scripts/compare_samples.sh [OUT] [MINUTES] [held-out|seen]
set -euo pipefail
OUT=${1:-out/compare-samples}
MINUTES=${2:-2}
SPLIT=${3:-held-out}
STUDIO=${STUDIO:-.venv/bin/studio}
S=resources/samples
W="$OUT/inputs"
rm -rf "$W"
mkdir -p "$W"/train/images "$W"/train/masks "$W"/test-faces/images "$W"/test-faces/masks \
         "$W"/occ-train "$W"/occ-test
case "$SPLIT" in
  held-out) TRAIN="astronaut cameraman"; TEST="grace_hopper"; COUNT=40 ;;
  seen) TRAIN="astronaut cameraman grace_hopper"; TEST="$TRAIN"; COUNT=42 ;;
  *) echo "split must be held-out or seen" >&2; exit 2 ;;
esac
for f in $TRAIN; do
  cp "$S/faces/images/$f.jpg" "$W/train/images/"; cp "$S/faces/masks/$f.png" "$W/train/masks/"
done
for f in $TEST; do
  cp "$S/faces/images/$f.jpg" "$W/test-faces/images/"
  cp "$S/faces/masks/$f.png" "$W/test-faces/masks/"
done
cp "$S"/occluders/{coin_1,coin_2,coin_3,cup,helmet}.png "$W/occ-train/"
cp "$S"/occluders/{navy_cap,rocket,shuttle_model}.png "$W/occ-test/"
# the test set: the test faces occluded by the held-out objects (NatOcc + SOT), seed 999
"$STUDIO" export presets/demo.yaml --out "$W/test" --faces "$W/test-faces/images" \
  --face-masks "$W/test-faces/masks" --occluders "$W/occ-test" --count "$COUNT" --seed 999 \
  --progress none
"$STUDIO" compare presets/demo.yaml presets/randocc.yaml --faces "$W/train" --test "$W/test" \
  --occluders "$W/occ-train" --textures "$S/textures" --count 300 --minutes "$MINUTES" \
  --size 128 --seed "${SEED:-0}" --out "$OUT/compare" --progress none
