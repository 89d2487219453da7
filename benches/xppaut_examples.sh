#!/bin/sh
# How many of XPPAUT's own example files the .ode reader loads and simulates, and why the rest
# are refused. Needs Debian's xppaut (apt-get install xppaut) for the examples and a release
# build (cargo build --release). Run from the repository root: sh benches/xppaut_examples.sh
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
        # The reason, without the file and position.
        echo "$msg" | grep -m1 '^error' | sed 's/^error: //; s/^[^ ]*\.ode:[0-9]*:[0-9]*: //' >> "$tmp/reasons"
    fi
done
echo "$ok of $all files load and simulate 10 time units; the others:"
sort "$tmp/reasons" | uniq -c | sort -rn
rm -rf "$tmp"
