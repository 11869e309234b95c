#!/usr/bin/env bash
# Installs everything dynarep needs on a fresh Debian 12 machine: compilers and libraries from
# apt, the local AWS stack and test tools from npm (pinned by package-lock.json). Safe to run
# again: it installs only what is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  clang-19 libclang-rt-19-dev          # libFuzzer for fuzz builds (src/aws needs clang >= 16)
  libcurl4-openssl-dev libssl-dev      # HTTP with keep-alive; SHA-256 / HMAC
  zlib1g-dev libdeflate-dev            # gzip: zlib for streaming inflate, libdeflate for speed
  libsimdjson-dev rapidjson-dev        # JSON: simdjson to parse, RapidJSON kept for comparison
  libcli11-dev libfmt-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  curl time
)
# Node.js runs the local AWS stack (dynalite, kinesalite, s3rver). Machines that already carry a
# node with its own npm (nodesource's nodejs bundles npm and conflicts with Debian's npm
# package) keep theirs; only a machine with neither gets Debian's.
if ! command -v node >/dev/null 2>&1; then packages+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1 && ! command -v node >/dev/null 2>&1; then packages+=(npm); fi
# install_missing required|optional PACKAGE...: apt-get installs those not installed yet (one
# `apt-get update` per run). Optional ones only warn when they cannot be had.
updated=0
install_missing() {
  local kind=$1 p
  shift
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  local sudo=""
  [[ $(id -u) == 0 ]] || sudo="sudo"
  echo "setup: installing ($kind) ${missing[*]}"
  if ((updated == 0)); then
    $sudo apt-get update -q || [[ $kind == optional ]] || return 1
    updated=1
  fi
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    [[ $kind == optional ]] || return 1
    echo "setup: warning: could not install ${missing[*]}; the checks that need them will be skipped" >&2
  fi
}
install_missing required "${packages[@]}"
# Tools for scripts/check-deploy.sh (promtool from prometheus; lintian for the .deb; PyYAML for
# the Kubernetes policy check; zip for deploy/lambda/build.sh) and for the checks of the
# generated man page and completions (groff-base, zsh): the checks that need them say SKIPPED
# when they are absent.
install_missing optional prometheus lintian python3-yaml zip groff-base zsh

cd "$here"
# npm's own node_modules/.package-lock.json never equals package-lock.json byte for byte, so
# compare against a stamp of the lockfile we installed from: npm ci runs only when it changed.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -d node_modules/dynalite ]] || [[ "$(cat node_modules/.dynarep-lock.sha256 2> /dev/null)" != "$lock_sum" ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.dynarep-lock.sha256
fi
# moto (the second local AWS implementation, for the tests that need what dynalite lacks, such
# as TransactWriteItems), and boto3 and the aws CLI (the end-to-end suite's independent writers
# and readers). The project's machines have them; elsewhere pip installs what is missing when it
# can reach its registry (short timeout, one retry). Never fatal: those tests say they were
# skipped and why.
py_missing=()
command -v moto_server > /dev/null 2>&1 || py_missing+=('moto[server]')
python3 -c 'import boto3' > /dev/null 2>&1 || py_missing+=(boto3)
command -v aws > /dev/null 2>&1 || py_missing+=(awscli)
if ((${#py_missing[@]})); then
  if command -v pip3 > /dev/null 2>&1 || command -v pip > /dev/null 2>&1; then
    echo "setup: pip install ${py_missing[*]}"
    "$(command -v pip3 || command -v pip)" install -q --timeout 15 --retries 1 "${py_missing[@]}" > /dev/null 2>&1 ||
      echo "setup: warning: could not install ${py_missing[*]}; the tests that need them will be skipped" >&2
  else
    echo "setup: warning: no pip for ${py_missing[*]}; the tests that need them will be skipped" >&2
  fi
fi
echo "setup: done"
