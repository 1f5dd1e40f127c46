#!/usr/bin/env bash
# The Table 3 check on a held-out test split (docs/heads.md, "The check of Table 3"): data, the
# vl-synth substitute encoders, features, then the 3-seed grid with the paper-faithful anchor
# and with the static+d2s anchor, each in its own copy of the workspace so the two grids run
# side by side. Sizes come from the environment so a small dry run uses the same steps:
#   VIDEOS=24 EPOCHS=1 SEEDS=1 experiments/csdvl-heldout/run.sh /tmp/heldout
# Writes OUT/{static,static+d2s}.{txt,json} (the ablate tables) and OUT/timing.txt.
set -euo pipefail
DATA=${1:?usage: run.sh DATA_DIR [OUT_DIR]}
OUT=${2:-$DATA}
STVG=${STVG:-stvg}
VIDEOS=${VIDEOS:-400} EPOCHS=${EPOCHS:-40} PATIENCE=${PATIENCE:-4} SEEDS=${SEEDS:-3}
DEVICE=${DEVICE:-cpu} WORKERS=${WORKERS:-0} THREADS=${THREADS:-1}
mkdir -p "$DATA" "$OUT"
stamp() { echo "$(date -u +%H:%M:%S) $*" | tee -a "$OUT/timing.txt"; }
export STVG_WORKSPACE=$DATA/ws

stamp start videos=$VIDEOS epochs=$EPOCHS patience=$PATIENCE seeds=$SEEDS device=$DEVICE
$STVG synth "$DATA/src" --dataset vidstg --videos "$VIDEOS" --seed 0 --test-seed 1000 \
    --fps 5 --duration 12 --tube-seconds 4 --no-detections
$STVG import vidstg --root "$DATA/src"
stamp imported
$STVG train-vl-encoder --dataset vidstg --epochs 3 --threads "$THREADS" --output "$DATA/models/vl1" &
$STVG train-vl-encoder --dataset vidstg --epochs 3 --threads "$THREADS" --context-frames 3 \
    --output "$DATA/models/vl3" &
wait
stamp encoders
$STVG extract --dataset vidstg --features vl-synth-map,vl-synth-text --size 176x320 --device "$DEVICE" \
    --weights vl-synth-map="$DATA/models/vl1" --weights vl-synth-text="$DATA/models/vl1"
$STVG extract --dataset vidstg --features vl-synth-motion-map --size 176x320 --device "$DEVICE" \
    --weights vl-synth-motion-map="$DATA/models/vl3"
stamp extracted
F="--frame-features vl-synth-map --clip-features vl-synth-motion-map --text-features vl-synth-text"
cp -r "$DATA/ws" "$DATA/ws-d2s"
for anchor in static static+d2s; do
  ws=$DATA/ws; [ "$anchor" = static ] || ws=$DATA/ws-d2s
  STVG_WORKSPACE=$ws $STVG ablate --dataset vidstg --seeds "$SEEDS" --epochs "$EPOCHS" \
      --val-split val --patience "$PATIENCE" $F --anchor "$anchor" --device "$DEVICE" \
      --num-workers "$WORKERS" > "$OUT/$anchor.txt" 2>&1 &
done
wait
stamp ablated
for anchor in static static+d2s; do
  ws=$DATA/ws; [ "$anchor" = static ] || ws=$DATA/ws-d2s
  STVG_WORKSPACE=$ws $STVG sql --format json "SELECT variant, seed, split, m_viou, viou_03, viou_05,
      m_tiou, m_siou, config FROM runs WHERE sentence_type = 'all' ORDER BY 1, 2" > "$OUT/$anchor.json"
done
stamp done
