#!/bin/sh
# How many of XPPAUT's own example files the .ode reader loads and simulates, and why the rest
# are refused. Needs Debian's xppaut (apt-get install xppaut) for the examples and a release
# build (cargo build --release). Run from the repository root: sh benches/xppaut_examples.sh
#
# Every *.ode file of the folder is simulated for 10 time units (RK4, dt = 0.01, no stimulus,
# the file's initial values). The folder holds other files too (animations *.ani, C sources
# for XPPAUT's dynamic libraries, gzipped PostScript, parameter sets *.set, data, images):
# only the .ode files are counted.
set -u
dir=${1:-/usr/share/doc/xppaut/examples/ode}
bin=./target/release/excitable
tmp=$(mktemp -d)
ok=0
all=0
for f in "$dir"/*.ode; do
    all=$((all + 1))
    if msg=$(timeout 20 "$bin" simulate --model-file "$f" --t-max 10 --dt 0.01 --out "$tmp/run" 2>&1 >/dev/null); then
        ok=$((ok + 1))
    else
        # The reason, without the file and position (a blow-up without its numbers), then
        # the file.
        reason=$(echo "$msg" | grep -m1 '^error' | sed 's/^error: //; s/^[^ ]*\.ode:[0-9]*:[0-9]*: //; s/^\(the run blew up\) at t = .*/\1 within 10 time units/')
        [ -n "$reason" ] || reason="no error message (timeout after 20 s?)"
        printf '%s\t%s\n' "$reason" "$(basename "$f" .ode)" >> "$tmp/reasons"
    fi
done
others=$(($(ls "$dir" | wc -l) - all))
echo "$ok of $all .ode files load and simulate 10 time units (the folder's $others other files are not models); the others:"
if [ -f "$tmp/reasons" ]; then
    sort "$tmp/reasons" | awk -F '\t' '
        $1 != last { if (n) printf "%7d %s (%s)\n", n, last, files; last = $1; n = 0; files = "" }
        { n++; files = files (files == "" ? "" : ", ") $2 }
        END { if (n) printf "%7d %s (%s)\n", n, last, files }' | sort -rn -k1,1
fi
rm -rf "$tmp"
