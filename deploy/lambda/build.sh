#!/usr/bin/env bash
# Builds the Lambda deployment zip for the provided.al2023 custom runtime:
#   deploy/lambda/build.sh [OUT.zip]        default build/lambda/dynarep-lambda.zip
# from the release build (configured and built here when build/release/src/app/dynarep is missing;
# DYNAREP_BINARY=path uses another binary). Layout of the zip:
#   bootstrap          a 4-line sh wrapper, the runtime's entry point
#   bin/dynarep        the binary (stripped)
#   lib/               EVERY shared library it loads, glibc and its loader included
#   LIBRARIES.txt      those libraries and the Debian packages they come from
# Why everything, glibc too: the binary is built on Debian 12 (glibc 2.36) and links Debian's
# libcurl, OpenSSL 3, simdjson, fmt and spdlog, which Amazon Linux 2023 (glibc 2.34) lacks or
# has in other versions, and a fully static build is not possible with these libraries (libcurl
# and OpenSSL as shipped by Debian are shared only). The wrapper runs the binary through the
# bundled loader (lib/ld-linux-x86-64.so.2 --library-path lib), so nothing from the host's
# /lib64 is mixed in; it also points SSL_CERT_FILE at Amazon Linux's CA bundle (Debian's
# libcurl would look for /etc/ssl/certs/ca-certificates.crt). See docs/operations.md.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$here/build/lambda/dynarep-lambda.zip}
binary=${DYNAREP_BINARY:-$here/build/release/src/app/dynarep}
for tool in zip ldd strip; do
  command -v "$tool" > /dev/null || { echo "build.sh: $tool is needed (apt-get install zip binutils)" >&2; exit 2; }
done
if [[ -z ${DYNAREP_BINARY:-} ]]; then
  echo "build.sh: release build"
  (cd "$here" && cmake --preset release > /dev/null && cmake --build --preset release -j "${DYNAREP_JOBS:-2}" --target dynarep)
fi
[[ -x $binary ]] || { echo "build.sh: no binary at $binary" >&2; exit 2; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib"
cp "$binary" "$stage/bin/dynarep"
strip --strip-unneeded "$stage/bin/dynarep"

# ldd lines: "libx.so.1 => /path/libx.so.1 (0x..)" and the loader "/lib64/ld-linux-x86-64.so.2 (0x..)".
mapfile -t libs < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
loader=""
: > "$stage/LIBRARIES.txt"
for lib in "${libs[@]}"; do
  name=$(basename "$lib")
  cp -L "$lib" "$stage/lib/$name"
  [[ $name == ld-linux-* ]] && loader=$name
  pkg=$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1) || true
  [[ -n $pkg ]] || pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1) || true
  printf '%-32s %s\n' "$name" "${pkg:-?}" >> "$stage/LIBRARIES.txt"
done
[[ -n $loader ]] || { echo "build.sh: ldd listed no dynamic loader" >&2; exit 1; }

cat > "$stage/bootstrap" <<WRAPPER
#!/bin/sh
# dynarep as a Lambda custom runtime: Debian's libraries through their own loader (deploy/lambda/build.sh).
export SSL_CERT_FILE="\${SSL_CERT_FILE:-/etc/pki/tls/certs/ca-bundle.crt}"
exec "\$LAMBDA_TASK_ROOT/lib/$loader" --library-path "\$LAMBDA_TASK_ROOT/lib" "\$LAMBDA_TASK_ROOT/bin/dynarep" replicate --lambda-runtime "\$@"
WRAPPER
chmod 755 "$stage/bootstrap" "$stage/bin/dynarep"

# The bundle must be self-contained: every library the loader resolves comes from lib/.
resolved=$("$stage/lib/$loader" --library-path "$stage/lib" --list "$stage/bin/dynarep")
if grep '=>' <<< "$resolved" | grep -v "=> $stage/lib/" | grep -q .; then
  echo "build.sh: libraries resolved outside the bundle:" >&2
  grep '=>' <<< "$resolved" | grep -v "=> $stage/lib/" >&2
  exit 1
fi
# And it runs: the wrapper as Lambda starts it (help only: no Runtime API here).
LAMBDA_TASK_ROOT=$stage "$stage/bootstrap" --help > /dev/null ||
  { echo "build.sh: the bundled bootstrap does not start" >&2; exit 1; }

mkdir -p "$(dirname "$out")"
rm -f "$out"
(cd "$stage" && zip -q -X -r "$out" bootstrap bin lib LIBRARIES.txt)
echo "build.sh: $out ($(du -h "$out" | cut -f1)), ${#libs[@]} libraries bundled:"
sed 's/^/  /' "$stage/LIBRARIES.txt"
