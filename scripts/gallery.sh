#!/usr/bin/env bash
# Rebuilds docs/img/, the PNGs of docs/figures.md, from the shipped scenarios with the
# release binary: one figure of each kind ecocomp draws.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/ecocomp
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$bin run --quiet --draws 1000 --plot-format png --out "$tmp/national" >/dev/null
$bin run scenarios/xinan.toml --quiet --draws 1000 --plot-format png --out "$tmp/xinan" >/dev/null
$bin run scenarios/chishui.toml --quiet --draws 1000 --plot-format png --out "$tmp/chishui" >/dev/null
$bin run scenarios/path_2021_2025.toml --quiet --draws 1000 --plot-format png --out "$tmp/path" >/dev/null
$bin sensitivity scenarios/national.toml --formula redline_reform --method morris \
  --samples 10 --out "$tmp/sens" >/dev/null
img=docs/img
rm -f "$img"/*.png
cp "$tmp/national/plots/allocations.png" "$img/allocations.png"
cp "$tmp/national/plots/allocation_groups.png" "$img/allocation_groups.png"
cp "$tmp/national/plots/hist_sichuan.png" "$img/histogram.png"
cp "$tmp/national/plots/lorenz.png" "$img/lorenz.png"
cp "$tmp/national/plots/lorenz_population.png" "$img/lorenz_population.png"
cp "$tmp/national/plots/concentration_gap.png" "$img/concentration_gap.png"
cp "$tmp/national/plots/dumbbell_groups.png" "$img/dumbbell_groups.png"
cp "$tmp/national/plots/winners_losers.png" "$img/winners_losers.png"
cp "$tmp/national/plots/dumbbell.png" "$img/dumbbell.png"
cp "$tmp/national/plots/budget_quality.png" "$img/budget_quality.png"
cp "$tmp/national/plots/map_change.png" "$img/map_change.png"
cp "$tmp/national/plots/waterfall_sichuan_redline_reform.png" "$img/waterfall.png"
cp "$tmp/national/plots/scatter_redline.png" "$img/scatter_redline.png"
cp "$tmp/national/plots/scatter_self_sufficiency.png" "$img/scatter_self_sufficiency.png"
cp "$tmp/xinan/plots/xinan_round1_sections.png" "$img/sections_p_index.png"
cp "$tmp/chishui/plots/chishui_sections.png" "$img/sections_classes.png"
cp "$tmp/xinan/plots/xinan_round1_net.png" "$img/basin_net.png"
cp "$tmp/path/plots/fan_sichuan.png" "$img/path_fan.png"
cp "$tmp/path/plots/fan_regions.png" "$img/path_small_multiples.png"
cp "$tmp/path/plots/floor_cap_share.png" "$img/path_floor_cap.png"
first=$(ls "$tmp/sens/plots/"tornado_*.png | head -1)
cp "$first" "$img/tornado.png"
# ecocomp writes PNGs with fast compression (a county run draws many); the gallery is
# committed, so it is squeezed once more with zlib's best level (pixels unchanged).
python3 - "$img"/*.png <<'PY'
import struct, sys, zlib
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    pos, chunks, idat = 8, [], b""
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IDAT":
            idat += body
            if not any(c[0] == b"IDAT" for c in chunks):
                chunks.append((b"IDAT", None))
        else:
            chunks.append((kind, body))
    packed = zlib.compress(zlib.decompress(idat), 9)
    out = [data[:8]]
    for kind, body in chunks:
        body = packed if kind == b"IDAT" else body
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        out.append(struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc))
    open(path, "wb").write(b"".join(out))
PY
du -ch "$img"/*.png | tail -1
