#!/usr/bin/env bash
# Regenerates every report in this folder that is not a study's (the commands of the table in
# reports/README.md, in that order: hh_noise's trace feeds windows and stats), then every
# study's (`study run --all`). Usage, from the repository's root:
#   reports/regenerate.sh            # builds the release binary first
#   EXCITABLE=path/to/excitable reports/regenerate.sh
# Each folder is replaced whole by its command (a run writes to a staging folder and swaps it
# in), so a failed command leaves the old folder and stops the script.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${EXCITABLE:-}" ]; then
  cargo build --release --quiet
  EXCITABLE=target/release/excitable
fi
x() { echo "+ excitable $*" >&2; "$EXCITABLE" "$@" > /dev/null; }
x simulate --model hh-ca --stim step:5:15:1 --t-max 200 --dt 0.01 --method euler --order v-first --v0 -70 --out reports/hh_ca_000
x rest --model hh --current 0 --current 9 --current 10 --out reports/rest_hh
x gating --model hh-1952 --v-from -80 --v-to 80 --out reports/gating_hh1952
x phase-plane --model hh --current 10 --out reports/phase_plane_hh
x phase-plane --model-file studies/models/zoo/ml_snic.ode --current 45 --t-max 500 --out reports/phase_plane_ml_snic
x prc --model hh --currents 10:50:10 --out reports/prc_hh
x excitability --model hh --out reports/excitability_hh
x report --model-file tests/fixtures/xppaut/lecar.ode --out reports/report_lecar
x simulate --model hh --stim noise:8:25:42:0.1 --t-max 1000 --method exp-euler --out reports/hh_noise
x windows --trace reports/hh_noise/trace.parquet --width 0.1 --width 0.5 --width 1 --width 5 --out reports/windows_hh_noise
x stats --spikes reports/hh_noise/spikes.parquet --t-stop 1000 --out reports/stats_hh_noise
x max-rate --model hh --out reports/max_rate_hh
x max-rate --model hh-ca --currents -20:300:2 --out reports/max_rate_hh_ca
x bifurcation --model hh-ca --from -150 --to 100 --out reports/bifurcation_hh_ca
x bifurcation2 --model hh --params i_ext,g_k --out reports/bifurcation2_hh
x fi --model hh --out reports/fi_hh
x fi --model lif --from 0 --to 3 --step 0.05 --out reports/fi_lif
x sweep --model hh --param g_k=20:50:0.5 --current 0:50:0.5 --out reports/sweep_gk_hh
x sweep --model hh --param g_na=80:160:4 --param g_k=20:50:1.5 --current 5,10,20,40 --out reports/sweep_gna_gk_hh
x study run --all
