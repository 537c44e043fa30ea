#!/usr/bin/env bash
# Push rows over lanes on one GPU, before and after in one call (docs/performance.md, "Push
# propagation on the GPU"): SPIKEC_CUDA_ROW_LANES=1 is the old mapping (a thread per spiking
# source), "auto" the new default, 32 and 256 the forced warp and block per source.
#
#   bash benchmarks/push_lanes.sh [seconds]    # results under $OUT (or /tmp/push_lanes)
#
# Sections stop at the deadline (default 560 s), tests first. What comes back: cuda_tests.log,
# push_lanes.json (every row), push_lanes.txt (the tables).
set -u
budget=${1:-560}
deadline=$((SECONDS + budget))
out=${OUT:-/tmp/push_lanes}
work=$(mktemp -d)
mkdir -p "$out"
left() { local s=$((deadline - SECONDS)); [ "$s" -gt "$1" ] && echo "$1" || echo $((s > 0 ? s : 1)); }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader

timeout "$(left 240)" python3 -m pytest -q -p no:cacheprovider -m cuda tests > "$out/cuda_tests.log" 2>&1
tail -2 "$out/cuda_tests.log"

models="--targets spikec-cuda --models brunel_hakim_homog cuba --no-monitors --duration 1.0 --timeout 100"
for lanes in 1 auto; do
  SPIKEC_CUDA_ROW_LANES=$lanes timeout "$(left 170)" python3 benchmarks/run.py $models \
      --sizes 1000 10000 100000 --out "$work/run_$lanes" > "$work/run_$lanes.log" 2>&1
done
for lanes in 32 256; do
  for model in brunel_hakim_homog:1000:10000 cuba:10000:100000; do
    IFS=: read -r name a b <<< "$model"
    SPIKEC_CUDA_ROW_LANES=$lanes timeout "$(left 60)" python3 benchmarks/run.py \
        --targets spikec-cuda --models "$name" --no-monitors --duration 1.0 --timeout 50 \
        --sizes "$a" "$b" --out "$work/run_${lanes}_$name" > "$work/run_${lanes}_$name.log" 2>&1
  done
done
rows="accumulate:homogeneous:10000:1000:1,10,50 accumulate:homogeneous:100000:100:1,10,50
      accumulate:homogeneous:1000000:10:1,10,50 plastic:homogeneous:10000:1000:1,10,50"
for lanes in 1 auto; do
  SPIKEC_CUDA_ROW_LANES=$lanes timeout "$(left 100)" python3 benchmarks/synapse_events.py \
      --device cuda --rows $rows --strategies push-atomic --duration 0.05 --repeats 3 \
      --out "$work/events_$lanes.json" > "$work/events_$lanes.log" 2>&1
done

python3 - "$work" "$out" <<'EOF'
import json, sys
from pathlib import Path
work, out = Path(sys.argv[1]), Path(sys.argv[2])
rows, lines = [], []
for path in sorted(work.glob("run_*/rows.json")):
    lanes = path.parent.name.split("_")[1]
    for row in json.loads(path.read_text()):
        rows.append(dict(row, lanes=lanes))
events = []
for path in sorted(work.glob("events_*.json")):
    for row in json.loads(path.read_text()):
        events.append(dict(row, lanes=path.stem.split("_")[1]))
logs = {p.name: p.read_text()[-3000:] for p in sorted(work.glob("*.log"))}
(out / "push_lanes.json").write_text(json.dumps({"run": rows, "events": events, "logs": logs}, indent=1))
lines.append("run.py, s per biological second (run_s), by lanes")
points = sorted({(r["model"], r["size"]) for r in rows})
order = ["1", "32", "256", "auto"]
lines.append(f"{'model':20} {'N':>7} " + " ".join(f"{l:>8}" for l in order))
for model, size in points:
    cells = []
    for lanes in order:
        found = [r for r in rows if (r["model"], r["size"], r["lanes"]) == (model, size, lanes)]
        r = found[0] if found else {}
        cells.append(f"{r['run_s']:8.3f}" if r.get("status") == "ok" else f"{r.get('status', '-')[:8]:>8}")
    lines.append(f"{model:20} {int(size):7d} " + " ".join(cells))
lines.append("synapse_events push-atomic, us per step, by lanes")
for r in events:
    e = r["strategies"].get("push-atomic", {})
    lines.append(f"{r['lanes']:>4} {r['effect']:10} {r['n']:8d} {r['synapses']:10d} {r['rate']:5g} "
                 + (f"{e['us_per_step']:9.1f} us {e['events_per_s'] / 1e6:9.2f} M/s" if e.get("status") == "ok"
                    else e.get("status", "-")))
(out / "push_lanes.txt").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
