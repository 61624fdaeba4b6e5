#!/usr/bin/env bash
# Regenerates the BerkeleyDB rpmdb fixtures from real header blobs, with the real tools:
# sqlite3 (read go-rpmdb's cbl-mariner rpmdb.sqlite), db5.3_load (write the hash database, as rpm
# < 4.16 did) and rpm -qa with the read-only bdb backend (the reference listing).
# Usage: make.sh /path/to/shared/fixtures   (needs: sqlite3 db5.3-util rpm)
set -euo pipefail
fixtures=${1:?shared fixtures folder}
src="$fixtures/go-rpmdb/os-pkgdb/pkg/testdata/cbl-mariner-2.0/rpmdb.sqlite"
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# hnum as a 4-byte little-endian key, the header blob as the value (what rpm stores).
dump() { # $1 = byte order (le|be), $2 = how many of the smallest packages
  echo "VERSION=3"; echo "format=bytevalue"; echo "type=hash"; echo "HEADER=END"
  sqlite3 "$src" "SELECT hnum, lower(hex(blob)) FROM Packages ORDER BY length(blob), hnum LIMIT $2" |
  while IFS='|' read -r hnum hex; do
    if [ "$1" = le ]; then printf ' %02x%02x%02x%02x\n' $((hnum & 255)) $((hnum >> 8 & 255)) 0 0
    else printf ' %02x%02x%02x%02x\n' 0 0 $((hnum >> 8 & 255)) $((hnum & 255)); fi
    echo " $hex"
  done
  echo "DATA=END"
}
build() { # $1 = output name, $2 = byte order, $3 = page size, $4 = count, $5 = checksums (0|1)
  rm -f "$here/$1" "$tmp/Packages"
  dump "$2" "$4" > "$tmp/dump"
  lorder=1234; [ "$2" = be ] && lorder=4321
  db5.3_load -c db_pagesize="$3" -c db_lorder="$lorder" -c chksum="${5:-0}" -f "$tmp/dump" "$tmp/Packages"
  cp "$tmp/Packages" "$here/$1"
  # rpm's read-only bdb backend refuses checksummed files: those have no listing of their own.
  [ "${5:-0}" = 1 ] && return
  mkdir -p "$tmp/db"; cp "$tmp/Packages" "$tmp/db/Packages"
  { echo "# rpm -qa --dbpath <tmp> --define '_db_backend bdb_ro' ($(rpm --version)); columns: NAME EPOCH VERSION RELEASE ARCH SOURCERPM LICENSE"
    rpm -qa --dbpath "$tmp/db" --define '_db_backend bdb_ro' \
      --qf '%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%{LICENSE}\n' | sort
  } > "$here/$1.ref.tsv"
  rm -rf "$tmp/db"
}
build Packages le 4096 12
build Packages.be64k be 65536 6
build Packages.chksum le 8192 4 1
