#!/usr/bin/env bash
# Run inside a private network namespace (unshare -n, as root): a real UPnP renderer (gmediarender,
# GStreamer's fakesink playing in real time), the tests' Cast receiver announced over mDNS, and
# `briefing serve`; then `briefing speakers` and `briefing play` on each, by name and by alias.
# libupnp refuses the loopback interface, so the devices share a veth interface holding 127.0.0.2.
# Usage: network-namespace.sh PYTHON CLI OUT WORKDIR
set -euo pipefail
python=$1 cli=$2 out=$3 work=$4
ip link set lo up
sysctl -qw net.ipv4.conf.all.route_localnet=1
ip link add dmr0 type veth peer name dmr1
ip addr add 127.0.0.2/32 dev dmr0
for link in dmr0 dmr1; do ip link set "$link" multicast on; ip link set "$link" up; done
ip route add 239.0.0.0/8 dev dmr0

gmediarender -I dmr0 -p 49494 -f "Kitchen Speaker" --gstout-audiopipe "fakesink sync=true" >"$work/renderer.log" 2>&1 &
renderer=$!
"$python" "$cli" serve --out "$out" --host 127.0.0.2 --port 8765 --base-url http://127.0.0.2:8765 --log \
    >"$work/serve.out" 2>"$work/serve.log" &
server=$!
trap 'kill $renderer $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q Serving "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
for _ in $(seq 150); do grep -q "Ready for rendering" "$work/renderer.log" && break; sleep 0.1; done
# A Cast device announced over mDNS on the same interface.
(cd "$(dirname "$0")/../.." && exec "$python" -m tests.speakers.cast_device 127.0.0.2 "$work") >"$work/cast.log" 2>&1 &
cast=$!
trap 'kill $renderer $server $cast 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -f "$work/cast-ready" ] && break; sleep 0.1; done

"$python" "$cli" speakers --timeout 3 >"$work/speakers.out" 2>&1
"$python" "$cli" play latest --out "$out" --to "Kitchen Speaker" --base-url http://127.0.0.2:8765 --timeout 30 \
    >"$work/play.out" 2>&1 && echo 0 >"$work/play.rc" || echo $? >"$work/play.rc"

"$python" "$cli" play latest --out "$out" --to "Living Room" --base-url http://127.0.0.2:8765 --timeout 30 \
    >"$work/cast.out" 2>&1 || true

# An alias saved with the renderer's UDN, as a user would after `briefing speakers`.
udn=$(grep -o 'upnp:uuid:[^ ]*' "$work/speakers.out" | head -1)
"$python" "$cli" speakers --config "$work/briefing.toml" --save "kitchen=$udn" >/dev/null
"$python" "$cli" play latest --out "$out" --to kitchen --config "$work/briefing.toml" --base-url http://127.0.0.2:8765     --timeout 30 >"$work/alias.out" 2>&1 || true
