"""What deploy/ ships, checked against the real thing:
- the Grafana dashboard and the Prometheus alert rules name only metrics a running milvus-cdc
  with a task exports (scraped from /metrics), and the per-task ones have series for the task;
- the alert rules pass `promtool check rules` and their unit tests (`promtool test rules`);
- the systemd unit passes `systemd-analyze verify` without a warning and keeps its hardening.
promtool (Debian's prometheus package) and systemd-analyze are installed by
scripts/install-deps.sh; without them these tests fail.
"""
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request

import pytest
import yaml

import cdc_server as cdc
from conftest import ROOT
from ops_task import running_task

DEPLOY = os.path.join(ROOT, "deploy")
DASHBOARD = os.path.join(DEPLOY, "grafana", "milvus-cdc-dashboard.json")
RULES = os.path.join(DEPLOY, "prometheus", "milvus-cdc-alerts.yml")
RULES_TEST = os.path.join(DEPLOY, "prometheus", "milvus-cdc-alerts.test.yml")
UNIT = os.path.join(DEPLOY, "systemd", "milvus-cdc.service")
SYSUSERS = os.path.join(DEPLOY, "systemd", "milvus-cdc.sysusers")
METRIC = re.compile(r"\b((?:milvus_cdc|process)_[a-z_]+)\b")
# Metrics every Running task has a series of, whatever it replicates.
PER_TASK = ("milvus_cdc_task_state", "milvus_cdc_task_failed", "milvus_cdc_task_reason_set",
            "milvus_cdc_replicated_rows_total", "milvus_cdc_replicated_bytes_total",
            "milvus_cdc_replicated_messages_total", "milvus_cdc_collections_set_aside",
            "milvus_cdc_channel_lag_ms", "milvus_cdc_channel_checkpoint_time_ms")


def _tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: scripts/install-deps.sh installs it")
    return path


def _dashboard_queries():
    with open(DASHBOARD, encoding="utf-8") as f:
        dash = json.load(f)
    queries = []
    for panel in dash["panels"]:
        for target in panel.get("targets", []):
            queries.append((panel["title"], target["expr"]))
    for var in dash["templating"]["list"]:
        if var["type"] == "query":
            queries.append((f"variable {var['name']}", var["definition"]))
    return queries


def _rule_queries():
    with open(RULES, encoding="utf-8") as f:
        rules = yaml.safe_load(f)
    return [(r["alert"], r["expr"]) for g in rules["groups"] for r in g["rules"]]


def _scrape(server, task_id, timeout=30):
    """/metrics once it has every per-task series of the task (its pipeline read the channels
    and wrote its first checkpoint), or the last scrape after `timeout` s."""
    url = server.url[:-len("cdc")] + "metrics"
    deadline = time.monotonic() + timeout
    while True:
        with urllib.request.urlopen(url, timeout=10) as r:
            text = r.read().decode()
        if all(f'{n}{{task_id="{task_id}"' in text for n in PER_TASK) or \
                time.monotonic() >= deadline:
            return text
        time.sleep(0.5)


@pytest.mark.own_task
def test_dashboard_and_alerts_name_only_exported_metrics(stack, source, names):
    queries = _dashboard_queries() + _rule_queries()
    assert len(queries) > 20
    with running_task(stack, source, names, "deploy-metrics") as (server, task_id):
        text = _scrape(server, task_id)
    exported = set(re.findall(r"^# TYPE (\S+) \S+$", text, re.M))
    used = {m for _, q in queries for m in METRIC.findall(q)}
    unknown = {m: [w for w, q in queries if m in METRIC.findall(q)]
               for m in sorted(used - exported)}
    assert not unknown, f"queries name metrics the server does not export: {unknown}"
    for name in PER_TASK:
        assert f'{name}{{task_id="{task_id}"' in text, f"no {name} series of the task"
    assert re.search(r"^process_resident_memory_bytes [1-9]", text, re.M)
    # The dashboard covers what the issue asks for.
    for name in ("milvus_cdc_channel_lag_ms", "milvus_cdc_replicated_rows_total",
                 "milvus_cdc_replicated_bytes_total", "milvus_cdc_retries_total",
                 "milvus_cdc_skipped_total", "milvus_cdc_task_state",
                 "milvus_cdc_collections_set_aside", "milvus_cdc_initial_sync_rows_copied",
                 "process_resident_memory_bytes", "process_cpu_seconds_total"):
        assert any(name in q for _, q in _dashboard_queries()), f"no panel shows {name}"


def test_alert_rules_pass_promtool():
    promtool = _tool("promtool")
    check = subprocess.run([promtool, "check", "rules", RULES], capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    test = subprocess.run([promtool, "test", "rules", os.path.basename(RULES_TEST)],
                          cwd=os.path.dirname(RULES_TEST), capture_output=True, text=True,
                          timeout=60)
    assert test.returncode == 0, test.stdout + test.stderr
    # Every alert has a unit test.
    with open(RULES_TEST, encoding="utf-8") as f:
        tested = {t["alertname"] for case in yaml.safe_load(f)["tests"]
                  for t in case["alert_rule_test"]}
    assert {name for name, _ in _rule_queries()} <= tested


def test_systemd_unit_verifies_and_is_hardened(tmp_path):
    analyze = _tool("systemd-analyze")
    binary = cdc.find_binary(ROOT)
    assert binary, "no milvus-cdc binary in the build directory"
    with open(UNIT, encoding="utf-8") as f:
        unit = f.read()
    # verify needs the ExecStart binary: the build's stands in for /usr/local/bin/milvus-cdc.
    assert "ExecStart=/usr/local/bin/milvus-cdc --config /etc/milvus-cdc/cdc.yaml\n" in unit
    path = tmp_path / "milvus-cdc.service"
    path.write_text(unit.replace("/usr/local/bin/milvus-cdc", binary), encoding="utf-8")
    verify = subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True,
                            timeout=60)
    assert verify.returncode == 0 and not verify.stderr.strip() and not verify.stdout.strip(), \
        f"systemd-analyze verify: rc {verify.returncode}\n{verify.stdout}{verify.stderr}"
    for line in ("User=milvus-cdc", "ProtectSystem=strict", "NoNewPrivileges=yes",
                 "PrivateTmp=yes", "ReadWritePaths=/var/lib/milvus-cdc", "Restart=on-failure"):
        assert f"\n{line}\n" in unit, f"the unit lost {line}"
    security = subprocess.run([analyze, "security", "--offline=true", str(path)],
                              capture_output=True, text=True, timeout=60)
    level = re.search(r"Overall exposure level for \S+: ([0-9.]+)", security.stdout)
    assert level, security.stdout + security.stderr
    assert float(level.group(1)) <= 2.0, security.stdout


def test_sysusers_file_makes_the_units_user(tmp_path):
    sysusers = _tool("systemd-sysusers")
    (tmp_path / "etc").mkdir()
    run = subprocess.run([sysusers, f"--root={tmp_path}", SYSUSERS], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    passwd = (tmp_path / "etc" / "passwd").read_text(encoding="utf-8")
    user = [line.split(":") for line in passwd.splitlines() if line.startswith("milvus-cdc:")]
    assert user and user[0][5] == "/var/lib/milvus-cdc" and user[0][6] == "/usr/sbin/nologin", \
        passwd
