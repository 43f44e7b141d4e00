#!/usr/bin/env bash
# Starts and stops the real servers that integration and end-to-end tests use, all on
# 127.0.0.1 free ports, with data and logs under $CDC_ENV_DIR (default .cache/env in the repo).
#
#   scripts/e2e-env.sh up [COMPONENT...]    start components (default: all)
#   scripts/e2e-env.sh down [COMPONENT...]  stop everything this script started (or only those)
#   scripts/e2e-env.sh status               show what runs
#   scripts/e2e-env.sh stop NAME... [--kill]   stop (SIGTERM, or SIGKILL), keeping data and ports
#   scripts/e2e-env.sh start NAME...        start a stopped (or ended) component again on them
#   scripts/e2e-env.sh restart NAME... [--down-for S] [--kill]    stop, wait S seconds, start
#
# Components: etcd mariadb kafka (and milvus-source milvus-target, added by the harness);
# pulsar is started only when named (`up pulsar`, exports CDC_TEST_PULSAR and CDC_TEST_PULSAR_WEB),
# and so is etcd-meta (a second etcd for a milvus-cdc meta store, exports CDC_TEST_ETCD_META),
# and so is milvus-source-pulsar (a source Milvus on Pulsar, exports CDC_TEST_MILVUS_SOURCE_PULSAR...).
# milvus-target-tls and milvus-target-mtls (targets with TLS / mutual TLS and authentication on
# test certificates in $CDC_TEST_TLS_DIR) also start only when named; `down NAME...` stops them.
# After `up`, $CDC_ENV_DIR/env.sh exports the addresses, e.g. CDC_TEST_ETCD=127.0.0.1:PORT,
# CDC_TEST_MYSQL=root:PASS@tcp(127.0.0.1:PORT)/cdc_test?charset=utf8, CDC_TEST_KAFKA=127.0.0.1:PORT.
#
# Downloaded server software (Kafka jars, the Milvus wheel and its venv) is cached outside the
# repo in $CDC_CACHE_DIR (default $HOME/.cache/milvus-cdc), shared by all worktrees, installed
# once under a lock and reused.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ENV_DIR=${CDC_ENV_DIR:-$ROOT/.cache/env}
ENV_FILE=$ENV_DIR/env.sh
CACHE_DIR=${CDC_CACHE_DIR:-$HOME/.cache/milvus-cdc}
mkdir -p "$ENV_DIR/logs" "$ENV_DIR/pids" "$CACHE_DIR"

log() { echo "e2e-env: $*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

set_env() { # set_env NAME VALUE: records an export line in env.sh (replacing an older one)
  touch "$ENV_FILE"
  grep -v "^export $1=" "$ENV_FILE" >"$ENV_FILE.tmp" || true
  echo "export $1='$2'" >>"$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

running() { # running NAME: true if the pid recorded for NAME is alive
  local f=$ENV_DIR/pids/$1.pid
  [[ -f $f ]] && kill -0 "$(cat "$f")" 2>/dev/null
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local secs=$1 what=$2
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      log "$what did not become ready in ${secs}s"
      return 1
    fi
    sleep 0.5
  done
}

start_etcd() { start_etcd_instance etcd CDC_TEST_ETCD; }
# A second etcd that only a milvus-cdc meta store uses (its outage then touches nothing else).
start_etcd-meta() { start_etcd_instance etcd-meta CDC_TEST_ETCD_META; }

start_etcd_instance() { # start_etcd_instance NAME ENV_VAR
  local name=$1 var=$2
  running "$name" && return 0
  local port peer dir=$ENV_DIR/$name
  port=$(free_port)
  peer=$(free_port)
  rm -rf "$dir" && mkdir -p "$dir"
  etcd --name cdc-test --data-dir "$dir" \
    --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "cdc-test=http://127.0.0.1:$peer" \
    >"$ENV_DIR/logs/$name.log" 2>&1 &
  echo $! >"$ENV_DIR/pids/$name.pid"
  wait_for 30 "$name" env ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:$port" endpoint health
  set_env "$var" "127.0.0.1:$port"
  log "$name on 127.0.0.1:$port"
}

start_mariadb() {
  running mariadb && return 0
  local port dir=$ENV_DIR/mariadb pass=cdc-test-pass
  port=$(free_port)
  rm -rf "$dir" && mkdir -p "$dir/data"
  mariadb-install-db --no-defaults --datadir="$dir/data" --auth-root-authentication-method=normal \
    --skip-test-db --user="$(id -un)" >"$ENV_DIR/logs/mariadb-install.log" 2>&1
  mariadbd --no-defaults --datadir="$dir/data" --socket="$dir/mysqld.sock" \
    --pid-file="$dir/mysqld.pid" --bind-address=127.0.0.1 --port="$port" --user="$(id -un)" \
    --skip-name-resolve --innodb-buffer-pool-size=64M \
    >"$ENV_DIR/logs/mariadb.log" 2>&1 &
  echo $! >"$ENV_DIR/pids/mariadb.pid"
  wait_for 60 mariadb mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot -e 'select 1'
  mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot -e \
    "ALTER USER 'root'@'localhost' IDENTIFIED BY '$pass';
     CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '$pass';
     ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '$pass';
     GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
     CREATE DATABASE IF NOT EXISTS cdc_test;"
  set_env CDC_TEST_MYSQL "root:$pass@tcp(127.0.0.1:$port)/cdc_test?charset=utf8"
  log "mariadb on 127.0.0.1:$port"
}

with_cache_lock() { # with_cache_lock NAME COMMAND...: runs COMMAND holding $CACHE_DIR/NAME.lock
  local name=$1
  shift
  (
    flock -w 900 9 || { log "timed out waiting for $CACHE_DIR/$name.lock"; exit 1; }
    "$@"
  ) 9>"$CACHE_DIR/$name.lock"
}

# --- Kafka (Apache Kafka from Maven Central, single-node KRaft) ---------------------------
KAFKA_VERSION=${CDC_KAFKA_VERSION:-3.9.1}
KAFKA_HOME=${CDC_KAFKA_HOME:-$CACHE_DIR/kafka}

install_kafka_locked() {
  [[ -f $KAFKA_HOME/VERSION && $(cat "$KAFKA_HOME/VERSION") == "$KAFKA_VERSION" ]] && return 0
  log "installing Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_HOME"
  rm -rf "$KAFKA_HOME/lib.tmp"
  mkdir -p "$KAFKA_HOME"
  mvn -q -B -f "$ROOT/scripts/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_HOME/lib.tmp" \
    >"$ENV_DIR/logs/kafka-install.log" 2>&1 ||
    { tail -20 "$ENV_DIR/logs/kafka-install.log" >&2; return 1; }
  rm -rf "$KAFKA_HOME/lib" && mv "$KAFKA_HOME/lib.tmp" "$KAFKA_HOME/lib"
  echo "$KAFKA_VERSION" >"$KAFKA_HOME/VERSION"
}

start_kafka() {
  running kafka && return 0
  with_cache_lock kafka install_kafka_locked
  local port cport dir=$ENV_DIR/kafka t0=$SECONDS
  port=$(free_port)
  cport=$(free_port)
  rm -rf "$dir" && mkdir -p "$dir/data"
  sed -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$cport|g" -e "s|@DATA_DIR@|$dir/data|g" \
    "$ROOT/scripts/kafka/server.properties.in" >"$dir/server.properties"
  local jvm=(java -Xms128m -Xmx${CDC_KAFKA_HEAP:-384m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -Djava.awt.headless=true -Dlog4j.configuration="file:$ROOT/scripts/kafka/log4j.properties"
    -Dkafka.logs.dir="$dir/logs" -cp "$KAFKA_HOME/lib/*")
  local cluster_id # Kafka's Uuid form: url-safe base64 of 16 bytes, never starting with '-'
  cluster_id=$(python3 -c 'import uuid,base64
while (u := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))[0] == "-": pass
print(u)')
  "${jvm[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" >"$ENV_DIR/logs/kafka-format.log" 2>&1 ||
    { tail -20 "$ENV_DIR/logs/kafka-format.log" >&2; return 1; }
  "${jvm[@]}" kafka.Kafka "$dir/server.properties" >"$ENV_DIR/logs/kafka.log" 2>&1 &
  echo $! >"$ENV_DIR/pids/kafka.pid"
  if ! wait_for 90 kafka python3 "$ROOT/scripts/kafka/kafka_ping.py" "127.0.0.1:$port"; then
    tail -30 "$ENV_DIR/logs/kafka.log" >&2
    return 1
  fi
  set_env CDC_TEST_KAFKA "127.0.0.1:$port"
  log "kafka $KAFKA_VERSION on 127.0.0.1:$port (ready in $((SECONDS - t0))s)"
}

# --- Pulsar (Apache Pulsar standalone from Maven Central jars) ------------------------------
# Broker plus one in-process bookie with RocksDB metadata, started by Pulsar's own standalone
# main class from the unshaded pulsar-broker classpath. Not in the default component list yet.
PULSAR_VERSION=${CDC_PULSAR_VERSION:-4.0.7}
PULSAR_HOME=${CDC_PULSAR_HOME:-$CACHE_DIR/pulsar-$PULSAR_VERSION}

install_pulsar_locked() {
  [[ -f $PULSAR_HOME/VERSION && $(cat "$PULSAR_HOME/VERSION") == "$PULSAR_VERSION" ]] && return 0
  log "installing Pulsar $PULSAR_VERSION jars from Maven Central into $PULSAR_HOME"
  rm -rf "$PULSAR_HOME/lib.tmp"
  mkdir -p "$PULSAR_HOME"
  # settings.xml maps the extra repositories of Pulsar's POMs onto Maven Central.
  mvn -q -B -s "$ROOT/scripts/pulsar/settings.xml" -f "$ROOT/scripts/pulsar/pom.xml" \
    -Dpulsar.version="$PULSAR_VERSION" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$PULSAR_HOME/lib.tmp" >"$ENV_DIR/logs/pulsar-install.log" 2>&1 ||
    { tail -20 "$ENV_DIR/logs/pulsar-install.log" >&2; return 1; }
  rm -rf "$PULSAR_HOME/lib" && mv "$PULSAR_HOME/lib.tmp" "$PULSAR_HOME/lib"
  echo "$PULSAR_VERSION" >"$PULSAR_HOME/VERSION"
}

pulsar_ready() { # pulsar_ready WEB_URL BROKER_URL: cluster listed, then a real round trip
  curl -fsS --max-time 5 "$1/admin/v2/clusters" | grep -q '"standalone"' &&
    java -Xmx128m -cp "$ENV_DIR/pulsar/ping:$PULSAR_HOME/lib/*" PulsarPing "$2"
}

start_pulsar() {
  running pulsar && return 0
  with_cache_lock pulsar install_pulsar_locked
  local port web bk dir=$ENV_DIR/pulsar t0=$SECONDS
  port=$(free_port)
  web=$(free_port)
  bk=$(free_port)
  rm -rf "$dir" && mkdir -p "$dir/data" "$dir/logs"
  sed -e "s|@PORT@|$port|g" -e "s|@WEB_PORT@|$web|g" \
    "$ROOT/scripts/pulsar/standalone.conf.in" >"$dir/standalone.conf"
  local jvm=(java -Xms128m -Xmx${CDC_PULSAR_HEAP:-512m} -XX:MaxDirectMemorySize=256m
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    --add-opens java.base/java.io=ALL-UNNAMED --add-opens java.base/java.util.zip=ALL-UNNAMED
    --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/jdk.internal.misc=ALL-UNNAMED
    --add-opens java.base/sun.net=ALL-UNNAMED --add-opens java.management/sun.management=ALL-UNNAMED
    -Dio.netty.tryReflectionSetAccessible=true -Djava.net.preferIPv4Stack=true
    -Dbookkeeper.metadata.bookie.drivers=org.apache.pulsar.metadata.bookkeeper.PulsarMetadataBookieDriver
    -Dbookkeeper.metadata.client.drivers=org.apache.pulsar.metadata.bookkeeper.PulsarMetadataClientDriver
    -Dlog4j.configurationFile="$ROOT/scripts/pulsar/log4j2.properties" -Dpulsar.log.dir="$dir/logs"
    -cp "$PULSAR_HOME/lib/*")
  # CWD = the instance dir: the starter resolves its relative defaults against it.
  (cd "$dir" && exec "${jvm[@]}" org.apache.pulsar.PulsarStandaloneStarter \
    --config "$dir/standalone.conf" -nfw -nss --metadata-dir "$dir/data/metadata" \
    --bookkeeper-dir "$dir/data/bookkeeper" --bookkeeper-port "$bk") >"$ENV_DIR/logs/pulsar.log" 2>&1 &
  echo $! >"$ENV_DIR/pids/pulsar.pid"
  # The health check's Java client program compiles while the broker starts.
  javac -nowarn -d "$dir/ping" -cp "$PULSAR_HOME/lib/*" "$ROOT/scripts/pulsar/PulsarPing.java" \
    >"$ENV_DIR/logs/pulsar-ping-build.log" 2>&1 ||
    { cat "$ENV_DIR/logs/pulsar-ping-build.log" >&2; stop_one pulsar; return 1; }
  if ! wait_for 180 pulsar pulsar_ready "http://127.0.0.1:$web" "pulsar://127.0.0.1:$port"; then
    tail -30 "$ENV_DIR/logs/pulsar.log" >&2
    return 1
  fi
  set_env CDC_TEST_PULSAR "pulsar://127.0.0.1:$port"
  set_env CDC_TEST_PULSAR_WEB "http://127.0.0.1:$web"
  log "pulsar $PULSAR_VERSION on pulsar://127.0.0.1:$port, web :$web (ready in $((SECONDS - t0))s)"
}

# --- Milvus (standalone binary of the embedded-Milvus wheel from PyPI) ----------------------
# PyPI's `milvus` wheel for Linux x86_64 stops at 2.3.5 (2.3.8/2.3.9 exist for macOS arm64
# only); its `milvus run standalone` binary and bundled libraries are unpacked once into
# $CACHE_DIR/milvus-$MILVUS_VERSION/bin and run directly with milvus.yaml files we render.
MILVUS_VERSION=${CDC_MILVUS_VERSION:-2.3.5}
VENV=${CDC_VENV:-$CACHE_DIR/venv}
MILVUS_BIN=$CACHE_DIR/milvus-$MILVUS_VERSION/bin
MILVUS_START_TIMEOUT=${CDC_MILVUS_START_TIMEOUT:-180}

install_venv_locked() {
  local req=$ROOT/scripts/milvus/requirements.txt stamp=$VENV/.requirements
  [[ -x $VENV/bin/python && -f $stamp ]] && cmp -s "$req" "$stamp" && return 0
  log "installing the harness venv (milvus wheel, pymilvus, ...) from PyPI into $VENV"
  [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$req" >"$ENV_DIR/logs/venv-install.log" 2>&1 ||
    { tail -20 "$ENV_DIR/logs/venv-install.log" >&2; return 1; }
  cp "$req" "$stamp"
}

install_milvus_locked() {
  install_venv_locked
  [[ -x $MILVUS_BIN/milvus && -f $MILVUS_BIN/.complete ]] && return 0
  log "unpacking the Milvus $MILVUS_VERSION binary into $MILVUS_BIN"
  rm -rf "$MILVUS_BIN" && mkdir -p "$MILVUS_BIN"
  "$VENV/bin/python" - "$MILVUS_BIN" "$MILVUS_VERSION" <<'EOF'
import glob, lzma, os, sys
import milvus
out_dir, want = sys.argv[1], sys.argv[2]
if milvus.__version__ != want:
    sys.exit(f"venv has milvus {milvus.__version__}, expected {want}")
data = os.path.join(os.path.dirname(milvus.__file__), "data")
for src in glob.glob(os.path.join(data, "bin", "*.lzma")):
    dst = os.path.join(out_dir, os.path.basename(src)[:-5])
    with lzma.open(src) as i, open(dst, "wb") as o:
        o.write(i.read())
    os.chmod(dst, 0o755)
for f in ("config.yaml.template", "glog.conf"):
    with open(os.path.join(data, f), "rb") as i, open(os.path.join(out_dir, f), "wb") as o:
        o.write(i.read())
EOF
  touch "$MILVUS_BIN/.complete"
}

env_value() { # env_value NAME: value recorded in env.sh, or empty
  [[ -f $ENV_FILE ]] || return 0
  sed -n "s/^export $1='\(.*\)'$/\1/p" "$ENV_FILE"
}

# Milvus writes /run/milvus/standalone-<alias>.pid (or /tmp/milvus/...): the alias carries a
# hash of $ENV_DIR so that instances of other worktrees do not share a pid file.
milvus_alias() { echo "$1-$(echo "$ENV_DIR" | md5sum | cut -c1-8)"; }

stop_milvus() { # stop_milvus NAME: SIGTERM, SIGKILL after 20 s (its graceful stop can hang)
  local f=$ENV_DIR/pids/$1.pid pid=""
  [[ -f $f ]] && pid=$(cat "$f")
  STOP_WAIT=20 stop_one "$1"
  # Files Milvus leaves in fixed places (it ignores MILVUS_RUN_DIR in 2.3).
  rm -f "/run/milvus/standalone-$(milvus_alias "$1").pid" \
    "/tmp/milvus/standalone-$(milvus_alias "$1").pid" ${pid:+"/tmp/milvus/server_id_$pid"}
}

milvus_mq_settings() { # milvus_mq_settings kafka|pulsar: milvus.yaml settings of that queue
  case $1 in
    kafka) echo mq.type=kafka "kafka.brokerList=$(env_value CDC_TEST_KAFKA)" kafka.readTimeout=10 ;;
    pulsar) # Milvus builds pulsar://address:port itself and uses the web port for admin calls.
      local broker web
      broker=$(env_value CDC_TEST_PULSAR)
      web=$(env_value CDC_TEST_PULSAR_WEB)
      echo mq.type=pulsar pulsar.address=127.0.0.1 "pulsar.port=${broker##*:}" \
        "pulsar.webport=${web##*:}" pulsar.maxMessageSize=5242880 pulsar.tenant=public \
        pulsar.namespace=default pulsar.requestTimeout=60 ;;
  esac
}

# start_milvus NAME ETCD_ROOT CLUSTER_PREFIX TT_MSG_ENABLED ENV_SUFFIX MQ(kafka|pulsar) [KEY=VALUE...]
# (the KEY=VALUE settings go last into milvus.yaml, over the ones set here)
start_milvus() {
  local name=$1 root=$2 prefix=$3 ttmsg=$4 suffix=$5 mq=$6
  running "$name" && return 0
  running etcd || up_one etcd
  running "$mq" || up_one "$mq"
  with_cache_lock milvus install_milvus_locked
  local etcd dir=$ENV_DIR/$name t0=$SECONDS
  etcd=$(env_value CDC_TEST_ETCD)
  # A fresh instance: its data dir and its etcd root path are wiped (the catalog would point at
  # deleted binlogs otherwise). Queue topics are not: consumers must seek past old messages.
  rm -rf "$dir" && mkdir -p "$dir/configs" "$dir/data" "$dir/logs" "$dir/run"
  ETCDCTL_API=3 etcdctl --endpoints "$etcd" del --prefix "$root/" >/dev/null
  local -A port
  local k
  for k in proxy proxy_internal root_coord query_coord query_node data_coord data_node \
    index_node index_coord metrics; do port[$k]=$(free_port); done
  "$VENV/bin/python" "$ROOT/scripts/milvus/render_config.py" \
    --template "$MILVUS_BIN/config.yaml.template" --out "$dir/configs/milvus.yaml" \
    etcd.endpoints="[$etcd]" etcd.rootPath="$root" etcd.use.embed=false \
    etcd.data.dir="$dir/etcd-unused" etcd.log.path=stdout etcd.log.level=warn \
    metastore.type=etcd $(milvus_mq_settings "$mq") \
    common.storageType=local localStorage.path="$dir/data/" rocksmq.path="$dir/rdb-unused" \
    log.file.rootPath= log.stdout=true log.level=info \
    common.chanNamePrefix.cluster="$prefix" common.ttMsgEnabled="$ttmsg" \
    common.gracefulStopTimeout=10 common.security.authorizationEnabled=false \
    proxy.ip=127.0.0.1 proxy.port="${port[proxy]}" proxy.internalPort="${port[proxy_internal]}" \
    rootCoord.ip=127.0.0.1 rootCoord.port="${port[root_coord]}" \
    queryCoord.ip=127.0.0.1 queryCoord.port="${port[query_coord]}" \
    queryNode.ip=127.0.0.1 queryNode.port="${port[query_node]}" \
    dataCoord.ip=127.0.0.1 dataCoord.port="${port[data_coord]}" \
    dataNode.ip=127.0.0.1 dataNode.port="${port[data_node]}" \
    indexNode.ip=127.0.0.1 indexNode.port="${port[index_node]}" \
    indexCoord.bindIndexNodeMode.address="127.0.0.1:${port[index_coord]}" \
    tls.serverPemPath="$dir/configs/server.pem" tls.serverKeyPath="$dir/configs/server.key" \
    tls.caPemPath="$dir/configs/ca.pem" "${@:7}"
  sed -e "s|^--log_dir=.*|--log_dir=$dir/logs/|" "$MILVUS_BIN/glog.conf" >"$dir/configs/glog.conf"
  # A clean environment: Milvus maps env vars onto config keys (MQ_TYPE, ETCD_ENDPOINTS, ...).
  (cd "$dir" && exec env -i PATH=/usr/bin:/bin HOME="$dir" LANG=C.UTF-8 \
    MILVUSCONF="$dir/configs" DEPLOY_MODE=STANDALONE METRICS_PORT="${port[metrics]}" \
    MILVUS_RUN_DIR="$dir/run" LD_LIBRARY_PATH="$MILVUS_BIN" \
    "$MILVUS_BIN/milvus" run standalone --alias="$(milvus_alias "$name")") >"$ENV_DIR/logs/$name.log" 2>&1 &
  echo $! >"$ENV_DIR/pids/$name.pid"
  if ! wait_for "$MILVUS_START_TIMEOUT" "$name" \
    "$VENV/bin/python" "$ROOT/scripts/milvus/milvus_ping.py" "${port[metrics]}" "${port[proxy]}" \
    --config "$dir/configs/milvus.yaml"; then
    log "last lines of $ENV_DIR/logs/$name.log:"
    tail -40 "$ENV_DIR/logs/$name.log" >&2
    return 1
  fi
  set_env "CDC_TEST_MILVUS_$suffix" "127.0.0.1:${port[proxy]}"
  set_env "CDC_TEST_MILVUS_${suffix}_METRICS" "127.0.0.1:${port[metrics]}"
  set_env "CDC_TEST_MILVUS_${suffix}_ETCD_ROOT" "$root"
  set_env "CDC_TEST_MILVUS_${suffix}_PREFIX" "$prefix"
  set_env "CDC_TEST_MILVUS_${suffix}_MQ" "$mq"
  set_env CDC_TEST_MILVUS_VERSION "$MILVUS_VERSION"
  set_env CDC_TEST_PYTHON "$VENV/bin/python"
  log "$name (Milvus $MILVUS_VERSION, mq $mq, etcd root $root, prefix $prefix, ttMsgEnabled $ttmsg) on" \
    "127.0.0.1:${port[proxy]}, metrics :${port[metrics]} (ready in $((SECONDS - t0))s)"
}

start_milvus-source() {
  local p=${CDC_SOURCE_PREFIX:-by-dev}
  start_milvus milvus-source "$p" "$p" true SOURCE kafka
}
start_milvus-target() {
  local p=${CDC_TARGET_PREFIX:-cdc-target}
  start_milvus milvus-target "$p" "$p" false TARGET kafka
}
# The source of the end-to-end suite's Pulsar pass: mq Pulsar, its own etcd root path (the
# channel prefix stays the default `by-dev`: the topics live on another broker).
start_milvus-source-pulsar() {
  start_milvus milvus-source-pulsar "${CDC_SOURCE_PULSAR_ETCD_ROOT:-by-dev-pulsar}" \
    "${CDC_SOURCE_PREFIX:-by-dev}" true SOURCE_PULSAR pulsar
}

# --- Target Milvus with TLS and authentication (only when named) -----------------------------
# Test certificates, made once with openssl into $ENV_DIR/pki (remade when they expire within a
# day): ca.pem/ca.key (a test CA), server.pem/server.key (SAN IP:127.0.0.1 and DNS:localhost,
# serverAuth) and client.pem/client.key (clientAuth), both signed by the CA, EC P-256, 30 days.
make_test_pki() {
  local dir=$ENV_DIR/pki
  if [[ -f $dir/.complete ]] && openssl x509 -checkend 86400 -noout -in "$dir/server.pem" >/dev/null; then
    set_env CDC_TEST_TLS_DIR "$dir"
    return 0
  fi
  rm -rf "$dir" && mkdir -p "$dir"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  (
    set -e
    cd "$dir"
    openssl req -x509 "${ec[@]}" -days 30 -subj "/CN=milvus-cdc test CA" -keyout ca.key -out ca.pem
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    for who in server client; do
      openssl req "${ec[@]}" -subj "/CN=milvus-cdc test $who" -keyout $who.key -out $who.csr
      openssl x509 -req -days 30 -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
        -extfile $who.ext -out $who.pem
    done
    chmod 600 ./*.key
  ) >"$ENV_DIR/logs/pki.log" 2>&1 || { cat "$ENV_DIR/logs/pki.log" >&2; return 1; }
  touch "$dir/.complete"
  set_env CDC_TEST_TLS_DIR "$dir"
  log "test certificates in $dir"
}

# start_milvus_tls_target NAME TLS_MODE ENV_SUFFIX: a replication target (ttMsgEnabled false)
# with common.security.tlsMode TLS_MODE (1: server TLS, 2: mutual TLS) on the harness
# certificates and authorizationEnabled (user root, password Milvus). Its etcd root path and
# channel prefix are NAME.
start_milvus_tls_target() {
  local name=$1 mode=$2 suffix=$3 pki=$ENV_DIR/pki
  running "$name" && return 0
  make_test_pki
  start_milvus "$name" "$name" "$name" false "$suffix" kafka common.security.tlsMode="$mode" \
    common.security.authorizationEnabled=true tls.serverPemPath="$pki/server.pem" \
    tls.serverKeyPath="$pki/server.key" tls.caPemPath="$pki/ca.pem"
}
start_milvus-target-tls() { start_milvus_tls_target milvus-target-tls 1 TARGET_TLS; }
start_milvus-target-mtls() { start_milvus_tls_target milvus-target-mtls 2 TARGET_MTLS; }

# down_some NAME...: stops only the named components and drops their addresses from env.sh.
down_some() {
  local name suffix
  for name in "$@"; do
    case $name in
      milvus-*) stop_milvus "$name" ;;
      *) stop_one "$name" ;;
    esac
    suffix=${name^^} && suffix=${suffix//-/_}
    if [[ -f $ENV_FILE ]]; then
      grep -v -E "^export CDC_TEST_${suffix}(_METRICS|_ETCD_ROOT|_PREFIX|_MQ|_WEB)?=" "$ENV_FILE" \
        >"$ENV_FILE.tmp" || true
      mv "$ENV_FILE.tmp" "$ENV_FILE"
    fi
    log "stopped $name"
  done
}

stop_one() { # stop_one NAME: SIGTERM, then SIGKILL after $STOP_WAIT (default 30) seconds
  local f=$ENV_DIR/pids/$1.pid pid
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((${STOP_WAIT:-30} * 2))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# --- Outages: stop a component and start it again with its data and ports kept ---------------
# After `up`, each running component's command line, working directory and (whitelisted)
# environment are read from /proc into $ENV_DIR/launch/NAME, so `start NAME` can run the same
# process again on the same data dir and ports, also after it ended by itself (a Milvus whose
# etcd session lapsed). Its address in env.sh stays valid; clients reconnect to it.
LAUNCH_DIR=$ENV_DIR/launch
# The only environment variables a relaunch passes on (Milvus runs with a clean environment and
# maps env vars onto config keys; the others need none of their own).
LAUNCH_ENV='PATH|HOME|LANG|JAVA_HOME|MILVUSCONF|DEPLOY_MODE|METRICS_PORT|MILVUS_RUN_DIR|LD_LIBRARY_PATH'

record_launch() { # record_launch NAME: remembers how NAME's running process was started
  local name=$1 pid d=$LAUNCH_DIR/$1
  running "$name" || return 0
  pid=$(cat "$ENV_DIR/pids/$name.pid")
  [[ -f $d/pid && $(cat "$d/pid") == "$pid" ]] && return 0
  mkdir -p "$d"
  cp "/proc/$pid/cmdline" "$d/cmdline"
  readlink "/proc/$pid/cwd" >"$d/cwd"
  tr '\0' '\n' <"/proc/$pid/environ" | grep -E "^($LAUNCH_ENV)=" >"$d/environ" || true
  echo "$pid" >"$d/pid"
}

record_all_launches() {
  local f
  for f in "$ENV_DIR"/pids/*.pid; do
    [[ -e $f ]] && record_launch "$(basename "$f" .pid)"
  done
  return 0
}

stopped() { # stopped NAME: NAME was started here and is not running now (its data is kept)
  [[ -f $LAUNCH_DIR/$1/cmdline ]] && ! running "$1"
}

ready_once() { # ready_once NAME: one health check of NAME on its recorded address
  local name=$1 suffix
  case $name in
    etcd | etcd-meta)
      local var=CDC_TEST_ETCD
      [[ $name == etcd-meta ]] && var=CDC_TEST_ETCD_META
      ETCDCTL_API=3 etcdctl --endpoints "$(env_value "$var")" endpoint health ;;
    mariadb)
      local dsn pass
      dsn=$(env_value CDC_TEST_MYSQL)
      pass=${dsn#*:} && pass=${pass%%@tcp*}
      mariadb --no-defaults --socket="$ENV_DIR/mariadb/mysqld.sock" -uroot -p"$pass" -e 'select 1' ;;
    kafka) python3 "$ROOT/scripts/kafka/kafka_ping.py" "$(env_value CDC_TEST_KAFKA)" ;;
    pulsar) pulsar_ready "$(env_value CDC_TEST_PULSAR_WEB)" "$(env_value CDC_TEST_PULSAR)" ;;
    milvus-*)
      suffix=${name#milvus-} && suffix=${suffix^^} && suffix=${suffix//-/_}
      local proxy metrics
      proxy=$(env_value "CDC_TEST_MILVUS_$suffix")
      metrics=$(env_value "CDC_TEST_MILVUS_${suffix}_METRICS")
      "$VENV/bin/python" "$ROOT/scripts/milvus/milvus_ping.py" "${metrics##*:}" "${proxy##*:}" \
        --config "$ENV_DIR/$name/configs/milvus.yaml" ;;
    *) log "no health check known for $name"; return 1 ;;
  esac
}

ready_timeout() { # seconds a restarted NAME may take to become healthy
  case $1 in
    etcd | etcd-meta) echo 30 ;;
    mariadb) echo 60 ;;
    kafka) echo 90 ;;
    pulsar) echo 180 ;;
    *) echo "$MILVUS_START_TIMEOUT" ;;
  esac
}

stop_kept() { # stop_kept NAME [--kill]: stops NAME, keeping its data, ports and launch record
  local name=$1 how=${2:-}
  if ! running "$name"; then
    stopped "$name" && return 0
    log "stop $name: it was not started here (nothing runs under that name)"
    return 1
  fi
  record_launch "$name"
  touch "$LAUNCH_DIR/$name/stopped"
  [[ $name == etcd ]] && mark_milvus_logs
  if [[ $how == --kill ]]; then
    kill -9 "$(cat "$ENV_DIR/pids/$name.pid")" 2>/dev/null || true
  fi
  case $name in
    milvus-*) stop_milvus "$name" ;;
    *) stop_one "$name" ;;
  esac
  log "stopped $name${how:+ ($how)} (data and ports kept)"
}

start_kept() { # start_kept NAME: runs a stopped (or ended) NAME again on its data and ports
  local name=$1 d=$LAUNCH_DIR/$1 t0=$SECONDS
  running "$name" && return 0
  if [[ ! -f $d/cmdline ]]; then
    log "start $name: it was never started here; use \`$0 up $name\` for a fresh one"
    return 1
  fi
  # Clears what a process that ended by itself left behind (pid files).
  case $name in
    milvus-*) stop_milvus "$name" ;;
    *) stop_one "$name" ;;
  esac
  local -a cmd envs=()
  mapfile -d '' -t cmd <"$d/cmdline"
  mapfile -t envs <"$d/environ"
  echo "=== e2e-env: $name started again at $(date -u +%FT%TZ)" >>"$ENV_DIR/logs/$name.log"
  (cd "$(cat "$d/cwd")" && exec env -i "${envs[@]}" "${cmd[@]}") >>"$ENV_DIR/logs/$name.log" 2>&1 &
  echo $! >"$ENV_DIR/pids/$name.pid"
  local secs
  secs=$(ready_timeout "$name")
  if ! wait_for "$secs" "$name (started again)" ready_once "$name"; then
    tail -30 "$ENV_DIR/logs/$name.log" >&2
    return 1
  fi
  record_launch "$name"
  rm -f "$d/stopped"
  log "$name started again with its data and ports (ready in $((SECONDS - t0))s)"
}

up_one() { # up_one NAME: a stopped NAME starts again with its data; otherwise a fresh start
  if stopped "$1"; then start_kept "$1"; else "start_$1"; fi
}

# Milvus 2.3.5 and an etcd restart (checked here): down for up to 20 s, both Milvus ride it out;
# down for about a minute, each Milvus's session keep-alive gives up ~55 s after etcd went away
# ("connection lost detected, shuting down", "... disconnected from etcd, process will exit")
# and the process ends ~10 s later, once etcd is back. So after etcd starts again every Milvus
# on it (unless stopped by hand) must be healthy with no such line since etcd stopped, or have
# ended; one that ended is started again with its data, one stuck halfway is killed first.
MILVUS_ETCD_EXIT='disconnected from etcd|connection lost detected'

mark_milvus_logs() { # remembers where each Milvus log ends when etcd stops
  local m
  for m in $(milvus_launched); do
    if ! running "$m"; then # taken down before (e.g. a test's TLS target): not revived
      rm -f "$LAUNCH_DIR/$m/log-at-etcd-stop"
      continue
    fi
    wc -c <"$ENV_DIR/logs/$m.log" >"$LAUNCH_DIR/$m/log-at-etcd-stop" 2>/dev/null || true
  done
}

milvus_launched() { # Milvus components started here (all use the harness etcd)
  local d
  for d in "$LAUNCH_DIR"/milvus-*; do [[ -d $d ]] && basename "$d"; done
  return 0
}

milvus_lost_etcd() { # milvus_lost_etcd NAME: its log says it gave up on etcd since etcd stopped
  local f=$LAUNCH_DIR/$1/log-at-etcd-stop
  [[ -f $f ]] || return 1 # etcd was not stopped by this script: only the health check counts
  tail -c +$(($(cat "$f") + 1)) "$ENV_DIR/logs/$1.log" | grep -E "$MILVUS_ETCD_EXIT" >/dev/null
}

revive_milvus_after_etcd() {
  local m deadline
  for m in $(milvus_launched); do
    [[ -f $LAUNCH_DIR/$m/stopped ]] && continue
    [[ -f $LAUNCH_DIR/$m/log-at-etcd-stop ]] || continue # not running when etcd stopped
    deadline=$((SECONDS + ${CDC_MILVUS_ETCD_WAIT:-60}))
    while running "$m" && { milvus_lost_etcd "$m" || ! ready_once "$m" >/dev/null 2>&1; }; do
      if ((SECONDS > deadline)); then
        log "$m neither healthy nor ended ${CDC_MILVUS_ETCD_WAIT:-60}s after the etcd restart: killing it"
        kill -9 "$(cat "$ENV_DIR/pids/$m.pid")" 2>/dev/null || true
        sleep 1
      fi
      sleep 1
    done
    if ! running "$m"; then
      log "$m ended after losing etcd (Milvus 2.3 exits when its etcd session lapses): starting it again"
      start_kept "$m"
    fi
    rm -f "$LAUNCH_DIR/$m/log-at-etcd-stop"
  done
}

outage_cmd() { # outage_cmd stop|start|restart NAME... [--down-for S] [--kill]
  local cmd=$1 down_for=0 how="" names=() n
  shift
  while (($#)); do
    case $1 in
      --down-for) down_for=${2:?--down-for needs seconds}; shift 2 ;;
      --kill) how=--kill; shift ;;
      -*) log "unknown option $1"; return 2 ;;
      *) names+=("$1"); shift ;;
    esac
  done
  ((${#names[@]})) || { log "$cmd: name a component (e.g. kafka)"; return 2; }
  if [[ $cmd == stop || $cmd == restart ]]; then
    for n in "${names[@]}"; do stop_kept "$n" "$how"; done
  fi
  [[ $cmd == restart ]] && sleep "$down_for"
  if [[ $cmd == start || $cmd == restart ]]; then
    for n in "${names[@]}"; do
      start_kept "$n"
      [[ $n == etcd ]] && revive_milvus_after_etcd
    done
  fi
  return 0
}

ALL_COMPONENTS=(etcd mariadb kafka milvus-source milvus-target)

cmd=${1:-status}
shift || true
case $cmd in
  up)
    comps=("$@")
    ((${#comps[@]})) || comps=("${ALL_COMPONENTS[@]}")
    for c in "${comps[@]}"; do up_one "$c"; done
    record_all_launches
    ;;
  stop | start | restart) outage_cmd "$cmd" "$@" ;;
  down)
    if (($#)); then down_some "$@" && exit 0; fi
    # Dependents first (Milvus needs etcd and Kafka for a graceful stop); all Milvus at once.
    for f in "$ENV_DIR"/pids/milvus-*.pid; do
      [[ -e $f ]] && stop_milvus "$(basename "$f" .pid)" &
    done
    wait
    for ((i = ${#ALL_COMPONENTS[@]} - 1; i >= 0; i--)); do stop_one "${ALL_COMPONENTS[i]}"; done
    for f in "$ENV_DIR"/pids/*.pid; do
      [[ -e $f ]] || continue
      stop_one "$(basename "$f" .pid)"
    done
    rm -f "$ENV_FILE"
    rm -rf "$LAUNCH_DIR"
    ;;
  status)
    for f in "$ENV_DIR"/pids/*.pid; do
      [[ -e $f ]] || continue
      n=$(basename "$f" .pid)
      if running "$n"; then echo "$n: running (pid $(cat "$f"))"; else echo "$n: dead (\`start $n\` runs it again)"; fi
    done
    for d in "$LAUNCH_DIR"/*; do
      if [[ -d $d ]] && stopped "$(basename "$d")"; then
        echo "$(basename "$d"): stopped (data and ports kept)"
      fi
    done
    [[ -f $ENV_FILE ]] && cat "$ENV_FILE"
    ;;
  *)
    echo "usage: $0 up [component...] | down | status | stop|start NAME... | restart NAME... [--down-for S] [--kill]" >&2
    exit 2
    ;;
esac
