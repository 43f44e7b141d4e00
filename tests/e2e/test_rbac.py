"""Roles, memberships and grants (extra_info.enable_user_role) on the real pair.

A Milvus 2.3.5 source writes none of them to its channels; milvus-cdc reads them from the
source's etcd (root-coord/credential/) about once a second and applies them to the target with
CreateRole / DropRole / OperateUserRole / OperatePrivilege. Users are not created (the source
keeps only a bcrypt hash of the password): a membership of a user the target lacks is counted
as user_missing_on_target and named in the task's reason; a user made by hand on both sides
gets its memberships.

Both Milvus run with authorizationEnabled false, as the harness starts them; a 2.3.5
OperatePrivilege still needs a user name in the `authorization` metadata (it records the
grantor), so these connections log in as root (not checked by that Milvus).
"""
import time

import pytest
from pymilvus import Role, connections, utility

from cdc_server import post
from conftest import session_task_state

STEP_WAIT = 20  # s for one change to reach the target (measured: about 1-2 s)
PASSWORD = "Passw0rd1"


def _connect(alias, addr):
    host, port = addr.rsplit(":", 1)
    connections.connect(alias, host=host, port=port, user="root", password="Milvus", timeout=30)
    return alias


@pytest.fixture
def rbac_pair(stack):
    src, dst = _connect("rbac_source", stack["source"]), _connect("rbac_target", stack["target"])
    made = {"roles": [], "users": []}
    yield src, dst, made
    for alias in (src, dst):
        for role in made["roles"]:
            r = Role(role, using=alias)
            try:
                if r.is_exist():
                    for u in r.get_users():
                        r.remove_user(u)
                    for g in r.list_grants().groups:
                        r.revoke(g.object, g.object_name, g.privilege, db_name=g.db_name)
                    r.drop()
            except Exception as e:  # cleanup only: the test's own assertions came first
                print(f"cleanup of role {role} on {alias}: {e!r}")
        for user in made["users"]:
            if user in utility.list_usernames(using=alias):
                utility.delete_user(user, using=alias)
    for alias in (src, dst):
        connections.disconnect(alias)


def _grants(alias, role):
    r = Role(role, using=alias)
    return sorted((g.object, g.object_name, g.db_name, g.privilege) for g in r.list_grants().groups)


def _roles(alias):
    return {item.role_name for item in utility.list_roles(False, using=alias).groups}


def _members(alias, role):
    return sorted(Role(role, using=alias).get_users())


def _until(check, what, timeout=STEP_WAIT):
    """Seconds until check() is True (polled every 0.2 s); fails naming `what` after timeout."""
    t0 = time.monotonic()
    last = None
    while time.monotonic() - t0 < timeout:
        try:
            last = check()
            if last is True:
                return time.monotonic() - t0
        except Exception as e:  # not there yet
            last = e
        time.sleep(0.2)
    pytest.fail(f"{what} not seen on the target within {timeout} s (last: {last!r}); "
                f"{session_task_state()}")


def _create_rbac_task(server, stack, db):
    host, port = stack["target"].rsplit(":", 1)
    return server.post("create", {
        "milvus_connect_param": {"host": host, "port": int(port), "username": "",
                                 "password": "", "enable_tls": False, "connect_timeout": 10},
        # A database of its own, so that it does not overlap the session task's collections.
        "db_collections": {db: [{"name": "*"}]},
        "rpc_channel_info": {"name": f"{stack['source_prefix']}-replicate-msg"},
        "extra_info": {"enable_user_role": True},
    })


def test_roles_grants_and_memberships_follow_the_source(replicating, cdc_server, stack, rbac_pair,
                                                         names):
    src, dst, made = rbac_pair
    early, role, later = names("role"), names("role"), names("role")
    both, only_src = names("user"), names("user")
    made["roles"] += [early, role, later]
    made["users"] += [both, only_src]

    # Without enable_user_role (the session task) nothing is copied: a role and a grant made on
    # the source are not on the target after 3 s, several times the ~1 s it takes with it.
    Role(early, using=src).create()
    Role(early, using=src).grant("Global", "*", "DescribeCollection")
    time.sleep(3)
    assert early not in _roles(dst), "copied by a task without enable_user_role"

    utility.create_user(both, PASSWORD, using=src)
    utility.create_user(both, PASSWORD, using=dst)  # by hand: users are not replicated
    utility.create_user(only_src, PASSWORD, using=src)
    r = Role(role, using=src)
    r.create()
    r.grant("Collection", "*", "Insert")
    r.grant("Global", "*", "DescribeCollection")
    r.add_user(both)
    r.add_user(only_src)
    want = _grants(src, role)
    assert len(want) == 2, want

    t_create = time.monotonic()
    resp = _create_rbac_task(cdc_server, stack, names("rbacdb"))
    assert resp.get("code") == 200, f"create: {resp}"
    task_id = resp["data"]["task_id"]
    try:
        # At the start: every role, grant and membership the target lacks.
        _until(lambda: role in _roles(dst) and _grants(dst, role) == want and
               _members(dst, role) == [both], f"role {role}, its grants and {both}")
        start_s = time.monotonic() - t_create
        assert early in _roles(dst) and _grants(dst, early) == _grants(src, early)
        assert only_src not in utility.list_usernames(using=dst)  # never created

        # The membership of a user only the source has is counted and named.
        task = None
        for _ in range(50):
            task = post(cdc_server.url, "get", {"task_id": task_id})["data"]["task"]
            if task.get("skipped", {}).get("user_missing_on_target"):
                break
            time.sleep(0.2)
        assert task["skipped"].get("user_missing_on_target") == 1, task
        assert f"user {only_src} does not exist on the target" in task.get("reason", ""), task

        # As they change: a new role with a grant, a revoke, a removal, a drop.
        Role(later, using=src).create()
        Role(later, using=src).grant("Collection", "*", "Search")
        new_s = _until(lambda: _grants(dst, later) == _grants(src, later), f"new role {later}")
        r.revoke("Collection", "*", "Insert")
        revoke_s = _until(lambda: _grants(dst, role) == _grants(src, role), f"revoke on {role}")
        assert len(_grants(dst, role)) == 1
        r.remove_user(both)
        remove_s = _until(lambda: _members(dst, role) == [], f"{both} removed from {role}")
        Role(early, using=src).revoke("Global", "*", "DescribeCollection")
        Role(early, using=src).drop()
        drop_s = _until(lambda: early not in _roles(dst), f"drop of role {early}")
        print(f"\nRBAC reached the target: at start {start_s:.1f} s after create; new role "
              f"{new_s:.1f} s, revoke {revoke_s:.1f} s, removal {remove_s:.1f} s, drop "
              f"{drop_s:.1f} s after the source")
    finally:
        post(cdc_server.url, "delete", {"task_id": task_id})
