#!/usr/bin/env bash
# The Table 3 check on a demo-sized benchmark, sized for 2 CPU cores: data with a held-out test
# seed, tiny random-init features, then the
# 3-seed grid with the default anchor and, beside it, the two variants that the static+d2s
# anchor changes, each paired against the default grid's `none` on the same test queries.
#   experiments/csdvl-heldout/check_small.sh DATA_DIR
# SCENE (synth options) and SIZE (extraction size) default to the scene with appearance twins;
# the demo's easier scene is
#   SCENE="--objects 2 --no-twins --object-scale 2" SIZE=112x192 check_small.sh DATA_DIR
# Writes DATA_DIR/{static,anchor}.txt (ablate tables), DATA_DIR/compare-*.txt, timing.txt.
set -euo pipefail
DATA=${1:?usage: check_small.sh DATA_DIR}
STVG=${STVG:-stvg}
EPOCHS=${EPOCHS:-15} PATIENCE=${PATIENCE:-2} SEEDS=${SEEDS:-3} VIDEOS=${VIDEOS:-160}
SCENE=${SCENE:---objects 4} SIZE=${SIZE:-96x160}
mkdir -p "$DATA"
stamp() { echo "$(date -u +%H:%M:%S) $*" | tee -a "$DATA/timing.txt"; }
export STVG_WORKSPACE=$DATA/ws
stamp start videos=$VIDEOS epochs=$EPOCHS patience=$PATIENCE seeds=$SEEDS scene="$SCENE" size=$SIZE
$STVG synth "$DATA/src" --dataset vidstg --videos "$VIDEOS" --seed 0 --test-seed 1000 --fps 5 \
    --duration 10 --tube-seconds 3 --width 192 --height 112 --no-detections $SCENE
$STVG import vidstg --root "$DATA/src"
$STVG extract --dataset vidstg --tiny --random-init --size "$SIZE"
stamp extracted
GRID="--dataset vidstg --seeds $SEEDS --epochs $EPOCHS --val-split val --patience $PATIENCE --max-frames 8"
$STVG ablate $GRID > "$DATA/static.txt" 2>&1 &
$STVG ablate $GRID --anchor static+d2s --no-s2d > "$DATA/anchor.txt" 2>&1 &
wait
stamp ablated
runs() { $STVG sql --format csv "SELECT string_agg(run_id, ',' ORDER BY seed) FROM runs
    WHERE variant = '$1' AND split = 'test' AND sentence_type = 'all'" | tail -1 | tr -d '"'; }
NONE=$(runs none)
for variant in 'd2s' 's2d' 's2d+d2s' 'd2s[anchor=static+d2s]' 's2d+d2s[anchor=static+d2s]'; do
  echo "== $variant against none" >> "$DATA/compare.txt"
  $STVG compare "$(runs "$variant")" "$NONE" >> "$DATA/compare.txt" 2>&1
done
$STVG sql --format csv "SELECT variant, seed, m_viou, viou_03, viou_05, m_tiou, m_siou FROM runs
    WHERE split = 'test' AND sentence_type = 'all' ORDER BY 1, 2" > "$DATA/runs.csv"
stamp done
