#!/usr/bin/env bash
# Installs the Debian packages that build and test milvus-cdc. Idempotent and quiet: it only
# calls apt when a package is missing. Server-side test tools (Kafka, Milvus, pymilvus) are
# installed by scripts/e2e-env.sh, which caches them outside the repo.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config ccache
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  librdkafka-dev libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libcpp-httplib-dev libboost-dev libmariadb-dev libsqlite3-dev libssl-dev
  libzstd-dev liblz4-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  etcd-server etcd-client mariadb-server
  clang-format clang-tidy
  # libFuzzer and the sanitizer runtimes of clang-14 (clang-tidy brings clang-14 itself):
  # scripts/check.sh fuzz
  libclang-rt-14-dev
  python3-venv python3-pip xz-utils curl procps psmisc
  openjdk-17-jre-headless maven
  # The status page's test drives a real headless browser (tests/e2e/test_status_page.py);
  # promtool (Debian's prometheus package) and systemd-analyze check deploy/ (test_deploy.py).
  chromium prometheus systemd
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq >/dev/null
  # Keep Debian's service scripts from starting mariadb/etcd system services: tests start their
  # own instances on free ports.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
