#!/bin/bash
# Prints the Debian packages that provide the shared libraries the given
# binaries link (one per line, sorted): what the runtime image must install.
# Fails, naming the library, when a library belongs to no package (a
# hand-built library would make the image incomplete).
#   bash deploy/docker/runtime-packages.sh build/central/kv-central ...
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: runtime-packages.sh BINARY..." >&2; exit 2; }

libs=$(ldd "$@" | awk '/=> \// {print $3}' | sort -u)
[ -n "$libs" ] || { echo "runtime-packages: ldd found no shared libraries in $*" >&2; exit 1; }

# Each library under the spellings dpkg may have recorded it by (merged
# /usr: /lib/x.so and /usr/lib/x.so are one file), asked in one dpkg-query
# call (each call reads every package's file list).
declare -A candidates
all=()
for lib in $libs; do
  real=$(readlink -f "$lib")
  c=$(printf '%s\n' "$lib" "$real" "${lib#/usr}" "${real#/usr}" "/usr${lib#/usr}" "/usr${real#/usr}" | sort -u)
  candidates[$lib]=$c
  mapfile -t -O "${#all[@]}" all <<<"$c"
done
declare -A owner
while IFS= read -r line; do
  pkg=${line%%: *}
  path=${line#*: }
  owner[$path]=${pkg%%:*}
done < <(dpkg-query -S "${all[@]}" 2>/dev/null | grep -v '^diversion ' || true)

packages=()
status=0
for lib in $libs; do
  found=""
  while IFS= read -r p; do
    if [ -n "${owner[$p]:-}" ]; then found=${owner[$p]}; break; fi
  done <<<"${candidates[$lib]}"
  if [ -z "$found" ]; then
    echo "runtime-packages: no Debian package provides $lib" >&2
    status=1
    continue
  fi
  packages+=("$found")
done
printf '%s\n' "${packages[@]}" | sort -u
exit $status
