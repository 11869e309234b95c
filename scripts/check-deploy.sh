#!/usr/bin/env bash
# Checks the deployment artifacts in deploy/ offline, each with the strongest tool this machine
# has. A checker whose tool is absent prints "SKIPPED: <tool> not installed" and does not fail
# the run; a checker that runs and finds a problem fails it (exit 1).
#   scripts/check-deploy.sh            every check
#   scripts/check-deploy.sh NAME...    only these (prometheus runbook grafana kubernetes systemd lambda container
#                                      package)
# `package` needs a build tree (build/release, else build/debug; DYNAREP_BUILD_DIR=DIR picks one).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

results=()
failed=0
pass() { results+=("PASS     $1"); echo "--- PASS: $1"; }
fail() { results+=("FAIL     $1: $2"); echo "--- FAIL: $1: $2" >&2; failed=1; }
skip() { results+=("SKIPPED  $1: $2"); echo "*** SKIPPED: $2 ***" >&2; }
have() { command -v "$1" > /dev/null 2>&1; }

# The metric names the daemon exports, read from the code that renders them
# (src/replicate/metrics.cpp): literal names, and the ones composed by render_worker_metrics
# (counter("x") -> dynarep_replicate_x) and render_aws_metrics (one("x") -> dynarep_aws_x).
exported_metrics() {
  local src=src/replicate/metrics.cpp
  {
    grep -o '"dynarep_[a-z_]*"' "$src" | tr -d '"'
    grep -o 'counter("[a-z_]*"' "$src" | sed 's/counter("\(.*\)"/dynarep_replicate_\1/'
    grep -o 'one("[a-z_]*"' "$src" | sed 's/one("\(.*\)"/dynarep_aws_\1/'
  } | grep -v '_$' | sort -u
}
# Metric names used in a file; histogram series (_bucket/_sum/_count) map to their family.
used_metrics() {
  grep -o 'dynarep_[a-z_]*' "$1" | sed -E 's/_(bucket|sum|count)$//' | sort -u
}
check_names() {  # $1 file: every dynarep_* name in it is exported
  local unknown
  unknown=$(comm -23 <(used_metrics "$1") <(exported_metrics))
  if [[ -n $unknown ]]; then
    echo "$1 uses metrics the daemon does not export: $(echo $unknown)" >&2
    return 1
  fi
}

# The Debian packages of the shared libraries a binary links directly (its NEEDED entries), one
# a line, sorted.
linked_packages() {  # $1 binary
  local lib path pkg
  for lib in $(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    path=$(ldd "$1" | awk -v l="$lib" '$1 == l {print $3}')
    pkg=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null) || true
    echo "${pkg%%:*}"
  done | sort -u
}

check_prometheus() {
  local n=prometheus
  if ! check_names deploy/prometheus/alerts.yaml; then fail $n "unknown metric names in alerts.yaml"; return; fi
  if ! have promtool; then skip $n "promtool not installed (apt-get install prometheus)"; return; fi
  (cd deploy/prometheus && promtool check rules alerts.yaml) || { fail $n "promtool check rules"; return; }
  (cd deploy/prometheus && promtool test rules alerts_test.yaml) || { fail $n "promtool test rules"; return; }
  pass "$n (promtool check rules + test rules, metric names)"
}

check_runbook() {
  local n=runbook doc=docs/operations.md missing=() a
  # Every alert has its own section (the alerts' annotations link to #<lower-cased name>).
  for a in $(sed -n 's/^[[:space:]]*- alert:[[:space:]]*\([A-Za-z0-9_]*\).*/\1/p' deploy/prometheus/alerts.yaml); do
    grep -qx "### $a" "$doc" || missing+=("$a")
    grep -q "docs/operations.md#$(tr '[:upper:]' '[:lower:]' <<< "$a")" deploy/prometheus/alerts.yaml ||
      { fail $n "alert $a does not link to its runbook section"; return; }
  done
  ((${#missing[@]} == 0)) || { fail $n "alerts without a '### NAME' section in $doc: ${missing[*]}"; return; }
  pass "$n (every alert of deploy/prometheus/alerts.yaml has its section in $doc)"
}

check_grafana() {
  local n=grafana f=deploy/grafana/dynarep.json
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["panels"], "no panels"' "$f" ||
    { fail $n "$f is not valid JSON with panels"; return; }
  check_names "$f" || { fail $n "unknown metric names in $f"; return; }
  pass "$n (valid JSON, every metric name exported)"
}

check_kubernetes() {
  local n=kubernetes files=(deploy/kubernetes/*.yaml) ok=""
  # Without a cluster kubectl cannot fetch the OpenAPI schema or the API discovery that
  # `create/apply --dry-run=client` need; `label --local` parses every object offline (YAML,
  # apiVersion, kind, metadata). The policy script checks what the runbook relies on.
  if have kubectl; then
    local args=()
    for f in "${files[@]}"; do args+=(-f "$f"); done
    kubectl label --local "${args[@]}" dynarep.dev/checked=true -o name || { fail $n "kubectl could not parse the manifests"; return; }
    ok="kubectl $(kubectl version --client 2>/dev/null | sed -n 's/^Client Version: //p') label --local"
  else
    skip "$n kubectl" "kubectl not installed"
  fi
  if /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
    /usr/bin/python3 scripts/check-k8s-policy.py "${files[@]}" || { fail $n "policy check"; return; }
    ok="${ok:+$ok + }policy (probes, IRSA, securityContext, indexed Job)"
  else
    skip "$n policy" "python3-yaml not installed"
  fi
  [[ -z $ok ]] || pass "$n ($ok)"
}

check_systemd() {
  local n=systemd unit=dynarep-replicate@.service
  if ! have systemd-analyze; then skip $n "systemd-analyze not installed"; return; fi
  # verify wants ExecStart's binary to exist: check a copy that points at an executable stub.
  local d="$scratch/systemd"
  mkdir -p "$d"
  sed "s|/usr/bin/dynarep|$d/dynarep|" "deploy/systemd/$unit" > "$d/$unit"
  printf '#!/bin/sh\n' > "$d/dynarep"
  chmod +x "$d/dynarep"
  local out
  # verify exits 0 on an unparsable setting (it only logs "ignoring"): any output is a failure.
  out=$(systemd-analyze verify "$d/dynarep-replicate@check.service" 2>&1) || true
  if [[ -n $out ]]; then echo "$out" >&2; fail $n "systemd-analyze verify"; return; fi
  # The sandbox: exposure at most 2.5 of 10 ("OK"); it is 1.6 as written.
  systemd-analyze security --offline=yes --threshold=25 "$d/dynarep-replicate@check.service" > "$d/security.txt" 2>&1 ||
    { tail -3 "$d/security.txt" >&2; fail $n "systemd-analyze security: exposure above 2.5"; return; }
  pass "$n ($(systemd-analyze --version | head -1): verify + security --offline, $(grep -o 'exposure level.*' "$d/security.txt" | sed 's/.*: //; s/ [^ ]*$//'))"
}

check_lambda() {
  local n=lambda t=deploy/lambda/template.yaml
  # Partial batch responses: the mapping's FunctionResponseTypes and the function's
  # REPORT_BATCH_ITEM_FAILURES go together (one without the other makes Lambda either ignore the
  # answer or read a success as "all failed"), and the runtime must answer batchItemFailures.
  local mapping_reports function_reports
  mapping_reports=$(grep -v '^[[:space:]]*#' "$t" | grep -c 'FunctionResponseTypes:.*ReportBatchItemFailures' || true)
  function_reports=$(grep -v '^[[:space:]]*#' "$t" | grep -c 'REPORT_BATCH_ITEM_FAILURES: "true"' || true)
  if [[ $mapping_reports != "$function_reports" ]]; then
    fail $n "$t: FunctionResponseTypes [ReportBatchItemFailures] and REPORT_BATCH_ITEM_FAILURES=\"true\" must be set together"; return
  fi
  if ((mapping_reports)) && ! grep -q 'batchItemFailures' src/replicate/lambda.cpp; then
    fail $n "$t sets ReportBatchItemFailures but the runtime never answers batchItemFailures"; return
  fi
  if have cfn-lint; then
    cfn-lint "$t" || { fail $n "cfn-lint $t"; return; }
    pass "$n template (cfn-lint $(cfn-lint --version | sed 's/^cfn-lint //'))"
  else
    skip "$n template" "cfn-lint not installed"
  fi
  # The zip from the release build where there is one, else from the debug build CI already has:
  # the binary differs (optimised, no test hooks), the packaging and the bootstrap check do not.
  local bin
  for bin in build/release/src/app/dynarep build/debug/src/app/dynarep; do [[ -x $bin ]] && break; done
  if [[ -x $bin ]]; then
    DYNAREP_BINARY=$bin deploy/lambda/build.sh "$scratch/lambda.zip" || { fail "$n zip" "deploy/lambda/build.sh"; return; }
    pass "$n zip (build.sh from $bin: self-contained, bootstrap starts)"
  else
    skip "$n zip" "no build tree with a binary (build/release or build/debug): the Lambda zip's build is not checked"
  fi
}

# The packages one stage of the Dockerfile installs: the words after "apt-get install" up to "&&".
dockerfile_packages() {  # $1 file, $2 stage index (0 build, 1 runtime)
  awk -v want="$2" '
    /^FROM / { stage++ }
    { line = $0; sub(/\\$/, "", line); if (stage - 1 == want) text = text " " line }
    END { print text }' "$1" |
    grep -o 'apt-get install[^&]*' | sed 's/apt-get install//' | tr ' ' '\n' | grep -v '^-' | grep -v '^$' | sort -u
}

check_container() {
  local n=container f=deploy/container/Dockerfile
  # No container engine here: a static check. Both stages on debian:12-slim, a non-root USER.
  local froms
  froms=$(awk '/^FROM /{print $2}' "$f" | sort -u)
  [[ $froms == "debian:12-slim" ]] || { fail $n "every stage must be FROM debian:12-slim (got: $(echo $froms))"; return; }
  local user
  user=$(awk '/^USER /{u=$2} END{print u}' "$f")
  [[ -n $user && $user != root && $user != 0 && $user != 0:* ]] || { fail $n "the final USER must be non-root"; return; }
  local build runtime
  build=$(dockerfile_packages "$f" 0)
  runtime=$(dockerfile_packages "$f" 1)
  [[ -n $build && -n $runtime ]] || { fail $n "no apt-get install found in both stages"; return; }
  if grep -q -- '-dev$' <<< "$runtime"; then fail $n "-dev packages in the runtime stage: $(grep -- '-dev$' <<< "$runtime" | xargs)"; return; fi
  # Every -dev package of the build stage is one scripts/setup.sh installs.
  local p
  for p in $(grep -- '-dev$' <<< "$build"); do
    grep -qw -- "$p" scripts/setup.sh || { fail $n "$p is not in scripts/setup.sh's package list"; return; }
  done
  # Every package exists in Debian (the machine is Debian 12, as the image).
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' > /dev/null; then
    skip "$n packages" "apt package lists absent (apt-get update): package names not checked"
  else
    local missing=()
    for p in $build $runtime; do apt-cache show "$p" > /dev/null 2>&1 || missing+=("$p"); done
    ((${#missing[@]} == 0)) || { fail $n "packages Debian does not have: ${missing[*]}"; return; }
  fi
  # The runtime packages are exactly those of the libraries the binary links (from a build here).
  local bin
  for bin in build/release/src/app/dynarep build/debug/src/app/dynarep; do [[ -x $bin ]] && break; done
  if [[ -x $bin ]] && have dpkg; then
    local linked
    linked=$(linked_packages "$bin" | grep -vxE 'libc6|libstdc\+\+6|libgcc-s1')
    local want
    want=$(grep -vx ca-certificates <<< "$runtime")
    if [[ $linked != "$want" ]]; then
      fail $n "runtime packages ($(echo $want)) differ from what $bin links ($(echo $linked))"; return
    fi
    pass "$n (static: debian:12-slim stages, USER $user, $(wc -w <<< "$build $runtime") packages exist, runtime = libraries linked by $bin)"
  else
    pass "$n (static: debian:12-slim stages, USER $user, packages exist; no build to compare the runtime libraries with)"
  fi
}

check_package() {
  local n=package dir=${DYNAREP_BUILD_DIR:-}
  if [[ -z $dir ]]; then
    for dir in build/release build/debug; do [[ -x $dir/src/app/dynarep ]] && break; done
  fi
  if [[ ! -x $dir/src/app/dynarep ]]; then skip $n "no build tree with a binary (build/release or build/debug)"; return; fi
  local t0=$SECONDS
  # The build tree CI already has: bring its install targets (man page, completions) up to date.
  cmake --build "$dir" --target dynarep_docs dynarep_changelog > "$scratch/build.log" 2>&1 ||
    { cat "$scratch/build.log" >&2; fail $n "building the man page and completions in $dir"; return; }
  # 1. cmake --install into a scratch prefix: every file in place, the man page renders cleanly.
  local prefix=$scratch/prefix f
  cmake --install "$dir" --prefix "$prefix" > /dev/null || { fail $n "cmake --install $dir"; return; }
  for f in bin/dynarep share/man/man1/dynarep.1.gz share/bash-completion/completions/dynarep \
           share/zsh/vendor-completions/_dynarep lib/cmake/dynarep/dynarepConfig.cmake include/dynarep/writer/replicated_table.h; do
    [[ -e $prefix/$f ]] || { fail $n "cmake --install did not install $f"; return; }
  done
  local warnings
  warnings=$(zcat "$prefix/share/man/man1/dynarep.1.gz" | LC_ALL=C.UTF-8 MANWIDTH=80 groff -man -Tutf8 -ww -z 2>&1)
  [[ -z $warnings ]] || { echo "$warnings" >&2; fail $n "groff warns about the man page"; return; }
  bash -n "$prefix/share/bash-completion/completions/dynarep" || { fail $n "the bash completion does not parse"; return; }
  if have zsh; then zsh -n "$prefix/share/zsh/vendor-completions/_dynarep" || { fail $n "the zsh completion does not parse"; return; }; fi
  # 2. find_package(dynarep) from that prefix: the example application builds and runs.
  cmake -S examples/replicated-table -B "$scratch/example" -DCMAKE_PREFIX_PATH="$prefix" > "$scratch/example.log" 2>&1 &&
    cmake --build "$scratch/example" -j "${DYNAREP_JOBS:-2}" >> "$scratch/example.log" 2>&1 ||
    { tail -30 "$scratch/example.log" >&2; fail $n "examples/replicated-table against the installed package"; return; }
  local usage rc=0
  usage=$("$scratch/example/replicated-table-example" 2>&1) || rc=$?
  [[ $rc == 2 && $usage == usage:* ]] || { echo "$usage" >&2; fail $n "the example did not start (exit $rc)"; return; }
  # 3. The .deb (CPack, from the same tree).
  if ! have dpkg-deb; then skip "$n deb" "dpkg-deb not installed"; return; fi
  (cd "$dir" && cpack -G DEB -B "$scratch/deb" > "$scratch/cpack.log" 2>&1) ||
    { tail -30 "$scratch/cpack.log" >&2; fail $n "cpack"; return; }
  local deb
  deb=$(ls "$scratch"/deb/dynarep_*.deb 2>/dev/null | head -1)
  [[ -n $deb ]] || { fail $n "cpack made no dynarep_*.deb"; return; }
  # Depends: exactly the packages of the libraries the binary links. A library's shlibs file
  # may name a virtual package its package provides (libspdlog1.10 -> libspdlog1.10-fmt9):
  # each Depends entry is mapped to the installed package that is or provides it.
  local depends want
  depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' | while read -r d; do
    [[ $(dpkg-query -W -f '${db:Status-Status}' "$d" 2> /dev/null) == installed ]] && echo "$d" ||
      dpkg-query -W -f '${Package} ${Provides},\n' | sed 's/ ([^)]*)//g' | awk -v d="$d" '{ for (i = 2; i <= NF; i++) if ($i == d "," ) { print $1; exit } }'
  done | sort -u)
  want=$(linked_packages "$dir/src/app/dynarep")
  [[ $depends == "$want" ]] || { fail $n "Depends ($(echo $depends)) differ from what the binary links ($(echo $want))"; return; }
  # Installed with dpkg into an empty root (its own database; the dependencies are the host's).
  local root=$scratch/root
  mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info"
  : > "$root/var/lib/dpkg/status"
  dpkg --root="$root" --force-depends --force-not-root -i "$deb" > "$scratch/dpkg.log" 2>&1 ||
    { cat "$scratch/dpkg.log" >&2; fail $n "dpkg -i --root"; return; }
  local version
  version=$("$root/usr/bin/dynarep" --version) || { fail $n "$root/usr/bin/dynarep --version failed"; return; }
  [[ $version == "dynarep $(dpkg-deb -f "$deb" Version)" ]] || { fail $n "--version says '$version'"; return; }
  [[ -f $root/usr/share/man/man1/dynarep.1.gz && -f $root/usr/share/doc/dynarep/copyright ]] ||
    { fail $n "the package lacks the man page or the copyright file"; return; }
  local lint="lintian not installed"
  if have lintian; then
    # Errors and warnings fail; info tags (e.g. hardening-no-fortify-functions on the unoptimised
    # debug build) are shown.
    lintian --fail-on error,warning --display-info "$deb" || { fail $n "lintian $(basename "$deb")"; return; }
    lint="lintian $(lintian --version | sed 's/^Lintian v//')"
  else
    skip "$n lintian" "lintian not installed (apt-get install lintian)"
  fi
  pass "$n ($dir, $((SECONDS - t0)) s: install + man page + completions, find_package example, $(basename "$deb"): Depends = linked, dpkg -i --root + --version, $lint)"
}

all=(prometheus runbook grafana kubernetes systemd lambda container package)
wanted=("$@")
((${#wanted[@]})) || wanted=("${all[@]}")
for c in "${wanted[@]}"; do
  echo "=== deploy: $c"
  "check_$c"
done
echo "=== deploy: summary"
printf '  %s\n' "${results[@]}"
exit "$failed"
