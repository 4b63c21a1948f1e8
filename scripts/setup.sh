#!/usr/bin/env bash
# setup.sh prepares a fresh Debian 12 machine (root, Node 20, npm) to build, run and test skiff:
# Debian packages, node_modules, and a build in dist/. Every step is skipped when its result is
# already there, so `npm run up` and `npm test` can call it every time.
#
#   bash scripts/setup.sh [--quiet] [--clean]
#
# --quiet prints only the steps that do real work. --clean deletes dist/ and builds from scratch
# (`npm test` does: a stale dist/ must not run deleted tests or code). Progress goes to stderr.
set -euo pipefail

quiet=0
clean=0
for arg in "$@"; do
  case "$arg" in
    --quiet|-q) quiet=1 ;;
    --clean) clean=1 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "[setup] $*" >&2; }
note() { if [ "$quiet" = 0 ]; then say "$@"; fi; }

# Debian packages the cluster's processes need, one a line (binary they provide in the comment).
# Later components add theirs here.
debian_packages=(
  etcd-server   # etcd
  openssl       # inspecting the cluster PKI by hand
  iproute2      # ip
  procps        # ps, pgrep
  util-linux    # setpriv: processes the test harness starts die with it
  python3-kubernetes  # the official Python client (22.6), for test/python (run with /usr/bin/python3)
  containerd    # containerd, ctr, containerd-shim-runc-v2: one instance of skiff's own per node
  runc          # runc, the OCI runtime under containerd
  containernetworking-plugins  # /usr/lib/cni: bridge, host-local, portmap, loopback
  iptables      # iptables(-legacy)-save/-restore: skiff-proxy's rules, the kubelet's masquerade exception
  nftables      # nft: skiff-proxy's nftables mode and its benchmark
  conntrack     # conntrack: the proxy clears stale UDP flows when an endpoint goes away
  busybox-static  # /bin/busybox, statically linked: the busybox image's one binary
  gcc           # the pause image's binary: freestanding C, no libc (kubelet/images/pause.c)
)

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

# One dpkg-query per package costs about 0.1-0.8 s: a stamp records that this list was found
# installed, and is trusted while it names this list and dpkg's database has not changed since.
packages_stamp=dist/.skiff-packages
packages_key=$(printf '%s\n' "${debian_packages[@]}" | sha256sum | cut -d' ' -f1)
missing=()
if [ -f "$packages_stamp" ] && [ "$(cat "$packages_stamp")" = "$packages_key" ] && [ ! /var/lib/dpkg/status -nt "$packages_stamp" ]; then
  :
else
  for pkg in "${debian_packages[@]}"; do
    installed "$pkg" || missing+=("$pkg")
  done
fi
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages: ${missing[*]} (run this script as root, or apt-get install them)"
    exit 1
  fi
  say "installing ${missing[*]}…"
  export DEBIAN_FRONTEND=noninteractive
  # Packages such as etcd-server and containerd try to start their service on install. Nothing here is started
  # by a package (there is no systemd, and skiff runs its own etcd on its own ports), so forbid
  # it for the install, as container images do with policy-rc.d.
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
  fi
  trap 'if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi' EXIT
  # apt's chatter goes to a log in quiet mode, and is shown only if the install fails.
  apt_log=
  if [ "$quiet" = 1 ]; then apt_log=$(mktemp /tmp/skiff-setup-apt.XXXXXX); exec 3>"$apt_log"; else exec 3>&2; fi
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}"; } >&3 2>&3; then
    if [ -n "$apt_log" ]; then cat "$apt_log" >&2; rm -f "$apt_log"; fi
    say "apt-get install ${missing[*]} failed"
    exit 1
  fi
  exec 3>&-
  if [ -n "$apt_log" ]; then rm -f "$apt_log"; fi
  note "installed ${missing[*]}"
else
  note "Debian packages present: ${debian_packages[*]}"
fi

# node_modules: `npm ci` when it is missing or package-lock.json changed since the last install.
stamp=node_modules/.skiff-lock-sha256
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
need_install=0
if [ ! -d node_modules ]; then
  need_install=1
elif [ -f "$stamp" ]; then
  [ "$(cat "$stamp")" = "$lock_sum" ] || need_install=1
elif [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # No stamp yet (installed by hand): npm's own record of the install tells whether it is current.
  need_install=1
fi
if [ "$need_install" = 1 ]; then
  say "installing npm dependencies (npm ci)…"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
echo "$lock_sum" >"$stamp"

# Build: tsc when any source or build setting is newer than the last successful build, or from an
# empty dist/ with --clean. The .proto files are read from the source tree (apiserver/protobuf/proto)
# and need no copy.
build_stamp=dist/.build-stamp
if [ "$clean" = 1 ]; then
  rm -rf dist
fi
if [ ! -f "$build_stamp" ] || [ -n "$(find . -path ./node_modules -prune -o -path ./dist -prune -o \
    \( -name '*.ts' -o -name tsconfig.json -o -name package-lock.json \) -newer "$build_stamp" -print -quit)" ]; then
  say "building (tsc)…"
  started=$(date +%s)
  # Stamp the time the build started, so a file saved during the build triggers the next one.
  mkdir -p dist
  touch "$build_stamp.new"
  node node_modules/typescript/bin/tsc -p tsconfig.json >&2
  mv "$build_stamp.new" "$build_stamp"
  note "built in $(( $(date +%s) - started ))s"
else
  note "build is up to date"
fi
chmod +x dist/cli/main.js
echo "$packages_key" >"$packages_stamp"

# The node's images (pause and busybox:1.36) as OCI layout tarballs in .skiff-images/, built from
# Debian's static busybox and kubelet/images/pause.c with no registry; rebuilt only when an input
# changed (kubelet/images/build.ts).
qflag=()
if [ "$quiet" = 1 ]; then qflag=(--quiet); fi
# Each tarball's .inputs file is written when it is built: newer than every input (the builder,
# pause.c, Debian's busybox) means up to date, without starting Node to say so.
images_current=1
for image in pause busybox; do
  inputs=.skiff-images/$image.oci.tar.inputs
  for input in dist/kubelet/images/build.js kubelet/images/pause.c /bin/busybox; do
    if [ ! -f "$inputs" ] || [ ! -f .skiff-images/$image.oci.tar ] || [ "$input" -nt "$inputs" ]; then images_current=0; fi
  done
done
if [ "$images_current" = 1 ]; then
  note "images are up to date"
else
  node dist/kubelet/images/build.js "${qflag[@]}"
  # It leaves an .inputs file alone when its digest still matches: mark it checked now.
  touch .skiff-images/pause.oci.tar.inputs .skiff-images/busybox.oci.tar.inputs
fi

# kubectl is the client the README and the end-to-end tests drive; skiff does not install it.
if ! command -v "${SKIFF_KUBECTL:-kubectl}" >/dev/null 2>&1; then
  say "warning: kubectl not found on PATH (set SKIFF_KUBECTL to use another); end-to-end tests need it"
fi
