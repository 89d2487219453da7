#!/usr/bin/env bash
# Seed corpora for the fuzz targets, from the repository's own files (run from the repository's
# root after `cargo build --release`): tests/fuzz/corpus/<target>/.
set -eu
c=tests/fuzz/corpus
mkdir -p "$c/stimulus" "$c/study" "$c/model_toml" "$c/spikes" "$c/ode_parse"
# stimulus: byte 0 even = texts (one per line), odd = a stimulus file.
k=0
for s in 10 0.5 step:5:15:1 step:9.99:14.99:10 "pulses:100,200,300:5:5" "ramp:0:100:0:20" \
         "sine:2:40" "sine:2:40:90" "noise:8:25:42:0.1" "noise:0:3:7" "const:3" \
         "pulses:500,550,1000:5:5+noise:0:3:11" "1e+3+step:0:1:2" "step:1:2:3
sine:1:10
ramp:0:5:1:2"; do
  printf '\000%s' "$s" > "$c/stimulus/text_$k"; k=$((k + 1))
done
printf '\001t_ms,i_ua_cm2\n0,0\n10,5\n20,0\n' > "$c/stimulus/file_0"
printf '\001i_ua_cm2,t_ms\n1,0.5\n2,1.5\n' > "$c/stimulus/file_1"
# study: every shipped study, and the report template.
cp studies/*.toml "$c/study/"
# model_toml: the shipped model file and a one-current model.
cp studies/models/*.toml "$c/model_toml/"
printf 'name = "leaky"\n[[param]]\nname = "c_m"\nvalue = 1.0\n[[param]]\nname = "g_l"\nvalue = 0.1\n[[param]]\nname = "e_l"\nvalue = -70.0\n[[current]]\nname = "l"\ng = "g_l"\ne = "e_l"\n' > "$c/model_toml/leaky.toml"
# spikes: byte 0 even = CSV, odd = Parquet; ours and a fixture's.
{ printf '\000'; cat tests/fixtures/spike_trains.csv | sed 's/^poisson/0/;s/^regular/1/;s/^[a-z_]*,/2,/;1s/.*/neuron,t_ms/'; } > "$c/spikes/csv_0"
printf '\000t_ms\n1\n5\n9.5\n' > "$c/spikes/csv_1"
tmp=$(mktemp -d)
./target/release/excitable simulate --model hh --stim 10 --t-max 100 --record spikes --neurons 3 --currents 8:12 --out "$tmp/s" > /dev/null
{ printf '\001'; cat "$tmp/s/spikes.parquet"; } > "$c/spikes/parquet_0"
./target/release/excitable simulate --model hh --stim 10 --t-max 30 --out "$tmp/t" > /dev/null
{ printf '\001'; cat "$tmp/t/trace.parquet"; } > "$c/spikes/parquet_1"
rm -rf "$tmp"
# ode_parse: our .ode files and the XPPAUT examples kept as fixtures.
for f in studies/models/*.ode tests/fixtures/xppaut/*.ode; do
  cp "$f" "$c/ode_parse/$(echo "$f" | tr / _)"
done
echo "seeded: $(ls "$c"/* | wc -l) files in $c"
