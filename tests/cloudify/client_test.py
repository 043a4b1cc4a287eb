#!/usr/bin/env python3
"""Cloudify's own Python client against `ucsv serve`: the /api/v3.1 users and tenants.

The client is `cloudify_rest_client`, shipped by the PyPI package cloudify-common (the
separate package cloudify-rest-client stops at 4.3.3, which is Python 2 only):

    python3 -m venv /tmp/cfy-venv
    /tmp/cfy-venv/bin/pip install -r tests/cloudify/requirements.txt
    UCSV_CFY_USER=admin UCSV_CFY_PASSWORD=... /tmp/cfy-venv/bin/python tests/cloudify/client_test.py

Environment (protocol http):
    UCSV_CFY_HOST      default 127.0.0.1
    UCSV_CFY_PORT      default 9486
    UCSV_CFY_USER      a sys_admin account (required)
    UCSV_CFY_PASSWORD  its password (required)
    UCSV_CFY_TENANT    the Tenant header, default "default"

It creates the account "alice" and the tenant "lyon", works on them, and deletes both
(also at the start, when a run before left them behind).

What ucsv does where Cloudify's server may do otherwise, and the steps check:
  - a user is an account, a tenant an entity (its name), a tenant role one of ucsv's
    viewer, user, manager: any other role is refused with 400 bad_parameters_error;
  - a tenant that anything still refers to (users, contexts, accounts) cannot be deleted:
    409 conflict_error, where Cloudify removes the memberships with the tenant;
  - an account that is not a sys_admin only reads itself, in a tenant it holds a role in
    (the Tenant header); a Tenant header naming no tenant is 403 ForbiddenError;
  - user groups do not exist: always none. The admin account is never sent
a wrong password. Prints one line per step and a closing "N passed, N failed"; exits 0
when every step passed, 1 at the first failing step, 2 when the environment is incomplete.
"""

import json
import os
import sys
import traceback
from urllib.parse import urlsplit

try:
    import requests
    from cloudify_rest_client import CloudifyClient
    from cloudify_rest_client.exceptions import (
        CloudifyClientError,
        ForbiddenError,
        UserUnauthorizedError,
    )
    from cloudify_rest_client.responses import ListResponse
    from cloudify_rest_client.tenants import Tenant
    from cloudify_rest_client.users import User
except ImportError as e:  # pragma: no cover
    sys.stderr.write(
        "client_test: cannot import Cloudify's client ({0}); "
        "pip install -r tests/cloudify/requirements.txt\n".format(e))
    sys.exit(2)

HOST = os.environ.get("UCSV_CFY_HOST", "127.0.0.1")
PORT = int(os.environ.get("UCSV_CFY_PORT", "9486"))
ADMIN = os.environ.get("UCSV_CFY_USER")
ADMIN_PASSWORD = os.environ.get("UCSV_CFY_PASSWORD")
TENANT = os.environ.get("UCSV_CFY_TENANT", "default")

ALICE = "alice"
PASSWORD_1 = "alice password 1"
PASSWORD_2 = "alice password 2"
WRONG_PASSWORD = "not alice's password"
LYON = "lyon"
MISSING_USER = "nobody-ucsv-cfy-404"
MISSING_TENANT = "nowhere-ucsv-cfy-404"


class Failed(Exception):
    pass


def check(cond, what, expected, got):
    """Fails the step unless cond, saying what was expected and what came."""
    if not cond:
        raise Failed("{0}: expected {1}, got {2!r}".format(what, expected, got))


# --- what went over the wire ------------------------------------------------------------

class Wire(object):
    """Every response of every client: (method, path?query, status), and the secrets seen."""

    def __init__(self):
        self.exchanges = []
        self.secrets = []  # (method, path, json path, value)

    def hook(self, response, *args, **kwargs):
        url = urlsplit(response.request.url)
        path = url.path + ("?" + url.query if url.query else "")
        self.exchanges.append((response.request.method, path, response.status_code))
        try:
            body = json.loads(response.content.decode("utf-8")) if response.content else None
        except ValueError:
            body = None
        self._scan(response.request.method, path, body, "$")
        return response

    def _scan(self, method, path, value, where):
        if isinstance(value, dict):
            for k, v in value.items():
                if k in ("password_hash", "password") and v is not None:
                    self.secrets.append((method, path, where + "." + k, v))
                self._scan(method, path, v, where + "." + k)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self._scan(method, path, v, "{0}[{1}]".format(where, i))

    def last(self):
        return self.exchanges[-1] if self.exchanges else None

    def last_status(self, method, path_prefix):
        """The status of the latest exchange with this method whose path starts so."""
        for m, p, s in reversed(self.exchanges):
            if m == method and p.startswith(path_prefix):
                return s
        return None


WIRE = Wire()


def client(username, password, tenant=TENANT):
    session = requests.Session()
    # No proxy and no ~/.netrc from the environment: only our Authorization header.
    session.trust_env = False
    session.hooks["response"].append(WIRE.hook)
    # kerberos_env=False: a client without credentials must not turn to Kerberos.
    return CloudifyClient(host=HOST, port=PORT, protocol="http", username=username,
                          password=password, tenant=tenant, session=session,
                          kerberos_env=False)


def api_error(call, what):
    """Runs call, which must raise CloudifyClientError; returns the error."""
    try:
        result = call()
    except CloudifyClientError as e:
        return e
    raise Failed("{0}: expected an error, got success {1!r}".format(what, result))


def check_error_shape(e, status, error_code, what):
    check(e.status_code == status, what + ": status", status, e.status_code)
    response = getattr(e, "response", None)
    check(response is not None, what + ": the error's response", "present", response)
    try:
        body = response.json()
    except ValueError:
        body = response.content
    check(isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"],
          what + ": the error body", 'a JSON object with a non-empty "message"', body)
    check(e.error_code == error_code, what + ": error_code", repr(error_code), e.error_code)


def refused_with_401(call, what):
    e = api_error(call, what)
    check_error_shape(e, 401, "unauthorized_error", what)
    check(isinstance(e, UserUnauthorizedError), what + ": exception class",
          "UserUnauthorizedError", type(e).__name__)
    return e


def signs_in(c, what):
    """c's credentials are accepted: users.list() succeeds or is refused with 403 only."""
    try:
        c.users.list()
        return "200"
    except CloudifyClientError as e:
        check(e.status_code == 403, what, "success or 403 (signed in, role too weak)",
              "{0} {1}".format(e.status_code, e))
        return "403"


# --- the shapes of the seed document ----------------------------------------------------

def check_user_counts(u, what):
    """A user without _get_data: tenants and groups are counts, tenant_roles null."""
    check(isinstance(u, User), what + ": type", "User", type(u).__name__)
    check(isinstance(u.get("tenants"), int) and not isinstance(u.get("tenants"), bool),
          what + ": tenants", "a count (int)", u.get("tenants"))
    check(isinstance(u.get("groups"), int) and not isinstance(u.get("groups"), bool),
          what + ": groups", "a count (int)", u.get("groups"))
    check(u.get("tenant_roles") is None, what + ": tenant_roles", "null or absent",
          u.get("tenant_roles"))
    check_user_common(u, what)


def check_user_data(u, what):
    """A user with _get_data: tenants, groups and tenant_roles in full."""
    check(isinstance(u, User), what + ": type", "User", type(u).__name__)
    tenants = u.get("tenants")
    check(isinstance(tenants, dict), what + ": tenants", "an object", tenants)
    for name, t in tenants.items():
        check(isinstance(t, dict) and isinstance(t.get("roles"), list) and "tenant-role" in t,
              what + ": tenants[{0!r}]".format(name),
              '{"roles": [...], "tenant-role": ...}', t)
    check(u.get("groups") == [], what + ": groups", "[] (no user groups)", u.get("groups"))
    tr = u.get("tenant_roles")
    check(isinstance(tr, dict) and isinstance(tr.get("direct"), dict)
          and tr.get("groups") == {},
          what + ": tenant_roles", '{"direct": {...}, "groups": {}}', tr)
    check(u.user_tenants == tr["direct"], what + ": User.user_tenants", tr["direct"],
          u.user_tenants)
    check_user_common(u, what)


def check_user_common(u, what):
    check(isinstance(u.username, str) and u.username, what + ": username", "a name",
          u.username)
    check(u.role in ("sys_admin", "default"), what + ": role", "sys_admin or default", u.role)
    check(isinstance(u.active, bool), what + ": active", "a boolean", u.active)
    check(isinstance(u.is_locked, bool), what + ": is_locked", "a boolean", u.is_locked)
    check(u.get("group_system_roles", {}) == {}, what + ": group_system_roles", "{}",
          u.get("group_system_roles"))
    check(u.get("password_hash") is None, what + ": password_hash", "null or absent",
          u.get("password_hash"))


def check_page(lst, what, item_type):
    check(isinstance(lst, ListResponse), what + ": type", "ListResponse", type(lst).__name__)
    for i, item in enumerate(lst):
        check(isinstance(item, item_type), what + ": item {0}".format(i), item_type.__name__,
              type(item).__name__)
    p = lst.metadata.pagination
    try:
        total, offset, size = p.total, p.offset, p.size
    except (TypeError, ValueError):
        raise Failed("{0}: metadata.pagination: expected total, offset and size as numbers, "
                     "got {1!r}".format(what, dict(lst.metadata)))
    check(total >= len(lst), what + ": pagination.total", ">= {0} items".format(len(lst)), total)
    return total, offset, size


def names(lst, key):
    return [item.get(key) for item in lst]


# --- the steps ----------------------------------------------------------------------------

def steps(admin):
    alice = lambda pw: client(ALICE, pw)  # noqa: E731

    def users_list():
        lst = admin.users.list()
        total, offset, size = check_page(lst, "users.list()", User)
        check(ADMIN in names(lst, "username"), "users.list(): usernames",
              "to contain " + repr(ADMIN), names(lst, "username"))
        for u in lst:
            check_user_counts(u, "users.list() item " + repr(u.username))
        return "{0} users, pagination total={1} offset={2} size={3}".format(
            len(lst), total, offset, size)

    def users_list_data():
        lst = admin.users.list(_get_data=True)
        check_page(lst, "users.list(_get_data=True)", User)
        for u in lst:
            check_user_data(u, "users.list(_get_data=True) item " + repr(u.username))
        me = [u for u in lst if u.username == ADMIN]
        check(len(me) == 1, "users.list(_get_data=True): " + ADMIN, "listed once", len(me))
        return "{0}: tenants {1}".format(ADMIN, me[0].tenants)

    def clean_before():
        said = []
        for what, call in (("users.delete", lambda: admin.users.delete(ALICE)),
                           ("tenants.delete", lambda: admin.tenants.delete(LYON))):
            try:
                call()
                said.append(what + ": removed one left by a run before")
            except CloudifyClientError as e:
                check(e.status_code == 404, what + " of a leftover", "success or 404",
                      "{0} {1}".format(e.status_code, e))
                said.append(what + ": 404")
        return "; ".join(said)

    def users_create():
        u = admin.users.create(ALICE, PASSWORD_1, "default")
        status = WIRE.last_status("PUT", "/api/v3.1/users")
        check(status == 201, "PUT /api/v3.1/users status", 201, status)
        check(u.username == ALICE, "users.create: username", ALICE, u.username)
        check(u.role == "default", "users.create: role", "default", u.role)
        check(u.active is True, "users.create: active", True, u.active)
        check(u.is_locked is False, "users.create: is_locked", False, u.is_locked)
        check(u.get("password_hash") is None, "users.create: password_hash", "null or absent",
              u.get("password_hash"))
        return "201 {0!r} role={1}".format(u.username, u.role)

    def users_create_again():
        e = api_error(lambda: admin.users.create(ALICE, PASSWORD_1, "default"),
                      "users.create of an existing username")
        check(e.status_code in (400, 409), "users.create of an existing username: status",
              "400 or 409", e.status_code)
        body = e.response.json() if e.response is not None else None
        check(isinstance(body, dict) and body.get("message"),
              "users.create of an existing username: body", 'a JSON "message"', body)
        return "{0} {1}".format(e.status_code, e.error_code)

    def users_get():
        u = admin.users.get(ALICE)
        check_user_counts(u, "users.get({0!r})".format(ALICE))
        check(u.username == ALICE, "users.get: username", ALICE, u.username)
        check(u.role == "default", "users.get: role", "default", u.role)
        return "tenants={0} groups={1} active={2}".format(u.tenants, u.groups, u.active)

    def users_get_data():
        u = admin.users.get(ALICE, _get_data=True)
        check_user_data(u, "users.get({0!r}, _get_data=True)".format(ALICE))
        check(LYON not in u.tenants, "users.get(_get_data=True): tenants",
              "no {0!r} yet".format(LYON), u.tenants)
        return "tenants={0} tenant_roles={1}".format(u.tenants, u.get("tenant_roles"))

    def set_password():
        signs_in(alice(PASSWORD_1), "alice with her first password, before the change")
        u = admin.users.set_password(ALICE, PASSWORD_2)
        check(isinstance(u, User) and u.username == ALICE, "users.set_password: the user",
              "User " + repr(ALICE), u)
        refused_with_401(lambda: alice(PASSWORD_1).users.list(),
                         "alice with her old password")
        how = signs_in(alice(PASSWORD_2), "alice with her new password")
        return "old password 401, new password {0}".format(how)

    def set_role():
        u = admin.users.set_role(ALICE, "sys_admin")
        check(u.role == "sys_admin", "users.set_role(sys_admin): role", "sys_admin", u.role)
        check(admin.users.get(ALICE).role == "sys_admin", "users.get after set_role: role",
              "sys_admin", admin.users.get(ALICE).role)
        lst = alice(PASSWORD_2).users.list()
        check(ALICE in names(lst, "username"), "users.list() as alice the sys_admin",
              "to list alice", names(lst, "username"))
        u = admin.users.set_role(ALICE, "default")
        check(u.role == "default", "users.set_role(default): role", "default", u.role)
        check(admin.users.get(ALICE).role == "default", "users.get after set_role: role",
              "default", admin.users.get(ALICE).role)
        return "sys_admin (and alice could list users), then default"

    def deactivate_activate():
        u = admin.users.deactivate(ALICE)
        check(u.active is False, "users.deactivate: active", False, u.active)
        check(admin.users.get(ALICE).active is False, "users.get after deactivate: active",
              False, admin.users.get(ALICE).active)
        refused_with_401(lambda: alice(PASSWORD_2).users.list(), "alice while deactivated")
        u = admin.users.activate(ALICE)
        check(u.active is True, "users.activate: active", True, u.active)
        check(admin.users.get(ALICE).active is True, "users.get after activate: active",
              True, admin.users.get(ALICE).active)
        how = signs_in(alice(PASSWORD_2), "alice once active again")
        return "inactive (alice 401), active again (alice {0})".format(how)

    def tenants_create():
        t = admin.tenants.create(LYON)
        status = WIRE.last_status("POST", "/api/v3.1/tenants/" + LYON)
        check(status == 201, "POST /api/v3.1/tenants/lyon status", 201, status)
        check(isinstance(t, Tenant) and t.name == LYON, "tenants.create: name", LYON,
              t.get("name"))
        return "201 {0!r}".format(t.name)

    def tenants_list():
        lst = admin.tenants.list()
        total, _, _ = check_page(lst, "tenants.list()", Tenant)
        check(LYON in names(lst, "name"), "tenants.list(): names", "to contain " + repr(LYON),
              names(lst, "name"))
        return "{0} (total {1})".format(names(lst, "name"), total)

    def tenants_get():
        t = admin.tenants.get(LYON)
        check(isinstance(t, Tenant) and t.name == LYON, "tenants.get: name", LYON,
              t.get("name"))
        check(t.get("users") in (0, None), "tenants.get({0!r}): users".format(LYON),
              "a count of 0 (nobody added yet)", t.get("users"))
        return "name={0!r} users={1!r} groups={2!r}".format(t.name, t.users, t.groups)

    def tenants_add_user():
        t = admin.tenants.add_user(ALICE, LYON, "manager")
        status = WIRE.last_status("PUT", "/api/v3.1/tenants/users")
        check(status == 200, "PUT /api/v3.1/tenants/users status", 200, status)
        check(isinstance(t, Tenant) and t.name == LYON, "tenants.add_user: the tenant", LYON,
              t.get("name"))
        return "alice is manager in lyon"

    def alice_reads_herself():
        mine = client(ALICE, PASSWORD_2, tenant=LYON)
        u = mine.users.get_self()
        check(isinstance(u, User) and u.username == ALICE, "users.get_self() as alice",
              "User " + repr(ALICE), u)
        u = mine.users.get(ALICE, _get_data=True)
        check(u.user_tenants == {LYON: "manager"}, "users.get(alice) as alice",
              {LYON: "manager"}, u.user_tenants)
        e = api_error(lambda: mine.users.list(), "users.list() as alice (not a sys_admin)")
        check_error_shape(e, 403, "forbidden_error", "users.list() as alice")
        check(isinstance(e, ForbiddenError), "users.list() as alice: exception class",
              "ForbiddenError", type(e).__name__)
        return "get_self and get 200, list 403 ForbiddenError"

    def unknown_tenant_header():
        e = api_error(lambda: client(ADMIN, ADMIN_PASSWORD, tenant=MISSING_TENANT).users.list(),
                      "users.list() with a Tenant header naming no tenant")
        check_error_shape(e, 403, "forbidden_error", "a Tenant header naming no tenant")
        check(isinstance(e, ForbiddenError), "a Tenant header naming no tenant: exception class",
              "ForbiddenError", type(e).__name__)
        return "403 ForbiddenError"

    def role_refused():
        said = []
        for call, what in ((lambda: admin.tenants.update_user(ALICE, LYON, "operations"),
                            "tenants.update_user(..., 'operations')"),
                           (lambda: admin.tenants.add_user(ALICE, TENANT, "admin"),
                            "tenants.add_user(..., 'admin')")):
            e = api_error(call, what)
            check_error_shape(e, 400, "bad_parameters_error", what)
            message = e.response.json()["message"]
            check(all(r in message for r in ("viewer", "user", "manager")), what + ": message",
                  "naming viewer, user and manager", message)
            said.append("400")
        u = admin.users.get(ALICE, _get_data=True)
        check(u.user_tenants == {LYON: "manager"}, "alice's tenants after the refusals",
              {LYON: "manager"}, u.user_tenants)
        return ", ".join(said) + " naming viewer, user, manager; nothing changed"

    def delete_in_use():
        e = api_error(lambda: admin.tenants.delete(LYON), "tenants.delete('lyon') while in use")
        check_error_shape(e, 409, "conflict_error", "tenants.delete('lyon') while in use")
        check(LYON in admin_names(admin.tenants.list()), "tenants.list() after the refusal",
              "lyon still there", admin_names(admin.tenants.list()))
        return "409 conflict_error: {0}".format(e.response.json()["message"])

    def admin_names(lst):
        return names(lst, "name")

    def user_shows_tenant(role):
        def step():
            u = admin.users.get(ALICE, _get_data=True)
            check_user_data(u, "users.get(alice, _get_data=True)")
            want = {"roles": [role], "tenant-role": role}
            check(u.tenants.get(LYON) == want, "users.get(alice, _get_data=True).tenants[lyon]",
                  want, u.tenants.get(LYON))
            check(u["tenant_roles"]["direct"].get(LYON) == role,
                  "users.get(alice, _get_data=True).tenant_roles.direct.lyon", repr(role),
                  u["tenant_roles"]["direct"])
            check(u.user_tenants.get(LYON) == role, "User.user_tenants[lyon]", repr(role),
                  u.user_tenants)
            n = admin.users.get(ALICE).tenants
            check(n == len(u.tenants), "users.get(alice).tenants (a count)",
                  len(u.tenants), n)
            t = admin.tenants.get(LYON, _get_data=True)
            check(t.users == {ALICE: {"tenant-role": role, "roles": [role]}},
                  "tenants.get(lyon, _get_data=True).users",
                  {ALICE: {"tenant-role": role, "roles": [role]}}, t.users)
            check(t.direct_users == {ALICE: role},
                  "tenants.get(lyon, _get_data=True).user_roles.direct", {ALICE: role},
                  t.get("user_roles"))
            check(t.group_users == {} and t.groups == {},
                  "tenants.get(lyon, _get_data=True): groups and user_roles.groups", "{}",
                  (t.groups, t.get("user_roles")))
            return "tenants.lyon={0} tenant_roles.direct={1}".format(
                u.tenants[LYON], u["tenant_roles"]["direct"])
        return step

    def tenants_update_user():
        t = admin.tenants.update_user(ALICE, LYON, "viewer")
        status = WIRE.last_status("PATCH", "/api/v3.1/tenants/users")
        check(status == 200, "PATCH /api/v3.1/tenants/users status", 200, status)
        check(isinstance(t, Tenant) and t.name == LYON, "tenants.update_user: the tenant",
              LYON, t.get("name"))
        return "alice is viewer in lyon"

    def tenants_remove_user():
        r = admin.tenants.remove_user(ALICE, LYON)
        status = WIRE.last_status("DELETE", "/api/v3.1/tenants/users")
        check(status in (200, 204), "DELETE /api/v3.1/tenants/users status", "200 or 204",
              status)
        u = admin.users.get(ALICE, _get_data=True)
        check(LYON not in u.tenants, "users.get(alice, _get_data=True).tenants after removal",
              "no " + repr(LYON), u.tenants)
        check(LYON not in u["tenant_roles"]["direct"], "tenant_roles.direct after removal",
              "no " + repr(LYON), u["tenant_roles"]["direct"])
        t = admin.tenants.get(LYON, _get_data=True)
        check(ALICE not in (t.users or {}), "tenants.get(lyon, _get_data=True).users",
              "no alice", t.users)
        return "{0}, result {1!r}".format(status, r)

    def wrong_password():
        refused_with_401(lambda: alice(WRONG_PASSWORD).users.list(), "alice, wrong password")
        refused_with_401(lambda: client(MISSING_USER, WRONG_PASSWORD).users.list(),
                         "an unknown username")
        refused_with_401(lambda: client(None, None).users.list(), "no credentials")
        signs_in(alice(PASSWORD_2), "alice with her password after one wrong one")
        return "401 unauthorized_error (UserUnauthorizedError), three ways"

    def lock_unlock():
        signs_in(alice(PASSWORD_2), "alice before the lock")
        for i in range(5):
            refused_with_401(lambda: alice(WRONG_PASSWORD).users.list(),
                             "alice, wrong password {0} of 5".format(i + 1))
        u = admin.users.get(ALICE)
        check(u.is_locked is True, "users.get(alice).is_locked after 5 wrong passwords", True,
              u.is_locked)
        refused_with_401(lambda: alice(PASSWORD_2).users.list(),
                         "alice locked, right password")
        u = admin.users.unlock(ALICE)
        check(isinstance(u, User) and u.username == ALICE, "users.unlock: the user",
              "User " + repr(ALICE), u)
        check(admin.users.get(ALICE).is_locked is False, "users.get(alice).is_locked after "
              "unlock", False, admin.users.get(ALICE).is_locked)
        how = signs_in(alice(PASSWORD_2), "alice after unlock")
        return "locked after 5, 401 even with the right password, unlocked ({0})".format(how)

    def missing():
        e = api_error(lambda: admin.users.get(MISSING_USER), "users.get of a missing user")
        check_error_shape(e, 404, "not_found_error", "users.get of a missing user")
        e2 = api_error(lambda: admin.tenants.get(MISSING_TENANT),
                       "tenants.get of a missing tenant")
        check_error_shape(e2, 404, "not_found_error", "tenants.get of a missing tenant")
        return "404 not_found_error: {0}".format(e)

    def list_options():
        lst = admin.users.list(sort="username", is_descending=True)
        got = names(lst, "username")
        check(got == sorted(got, reverse=True), "users.list(sort=username, descending)",
              "usernames in descending order", got)
        page = admin.users.list(_offset=0, _size=1)
        total, offset, size = check_page(page, "users.list(_offset=0, _size=1)", User)
        check(len(page) == 1 and offset == 0 and size == 1 and total >= 2,
              "users.list(_offset=0, _size=1)",
              "1 item, offset 0, size 1, total >= 2",
              (len(page), dict(page.metadata)))
        page2 = admin.users.list(_offset=1, _size=1, sort="username")
        first = admin.users.list(sort="username")
        check(names(page2, "username") == names(first, "username")[1:2],
              "users.list(_offset=1, _size=1, sort=username)",
              names(first, "username")[1:2], names(page2, "username"))
        inc = admin.users.list(_include=["username", "role"])
        for u in inc:
            check(set(u.keys()) <= {"username", "role"} and "username" in u,
                  "users.list(_include=[username, role]) item", "only username and role",
                  dict(u))
        return "sort, _offset/_size (total {0}), _include".format(total)

    def users_delete():
        r = admin.users.delete(ALICE)
        status = WIRE.last_status("DELETE", "/api/v3.1/users/" + ALICE)
        check(status in (200, 204), "DELETE /api/v3.1/users/alice status", "200 or 204",
              status)
        e = api_error(lambda: admin.users.get(ALICE), "users.get of the deleted user")
        check(e.status_code == 404, "users.get of the deleted user: status", 404,
              e.status_code)
        return "{0}, then users.get 404 (result {1!r})".format(status, r)

    def tenants_delete():
        r = admin.tenants.delete(LYON)
        status = WIRE.last_status("DELETE", "/api/v3.1/tenants/" + LYON)
        check(status in (200, 204), "DELETE /api/v3.1/tenants/lyon status", "200 or 204",
              status)
        e = api_error(lambda: admin.tenants.get(LYON), "tenants.get of the deleted tenant")
        check(e.status_code == 404, "tenants.get of the deleted tenant: status", 404,
              e.status_code)
        lst = admin.tenants.list()
        check(LYON not in names(lst, "name"), "tenants.list() after delete", "no lyon",
              names(lst, "name"))
        return "{0}, then tenants.get 404 (result {1!r})".format(status, r)

    def no_secret():
        check(not WIRE.secrets, "password or password_hash in any response",
              "never (null or absent)", WIRE.secrets[:5])
        return "{0} responses, none with a password or hash".format(len(WIRE.exchanges))

    return [
        ("users.list()", users_list),
        ("users.list(_get_data=True)", users_list_data),
        ("clean up what a run before left", clean_before),
        ("users.create('alice', ..., 'default')", users_create),
        ("users.create('alice') again refused", users_create_again),
        ("users.get('alice')", users_get),
        ("users.get('alice', _get_data=True)", users_get_data),
        ("users.set_password('alice', ...)", set_password),
        ("users.set_role('alice', 'sys_admin') and back", set_role),
        ("users.deactivate / activate('alice')", deactivate_activate),
        ("tenants.create('lyon')", tenants_create),
        ("tenants.list()", tenants_list),
        ("tenants.get('lyon')", tenants_get),
        ("tenants.add_user('alice', 'lyon', 'manager')", tenants_add_user),
        ("users.get('alice', _get_data=True) shows lyon/manager", user_shows_tenant("manager")),
        ("alice reads herself in lyon, and may not list", alice_reads_herself),
        ("a Tenant header naming no tenant: 403", unknown_tenant_header),
        ("a tenant role ucsv has not: 400", role_refused),
        ("tenants.delete('lyon') while alice is in it: 409", delete_in_use),
        ("tenants.update_user('alice', 'lyon', 'viewer')", tenants_update_user),
        ("users.get('alice', _get_data=True) shows lyon/viewer", user_shows_tenant("viewer")),
        ("tenants.remove_user('alice', 'lyon')", tenants_remove_user),
        ("wrong password: 401", wrong_password),
        ("five wrong passwords lock; users.unlock", lock_unlock),
        ("missing user and tenant: 404", missing),
        ("users.list sort, _offset/_size, _include", list_options),
        ("users.delete('alice')", users_delete),
        ("tenants.delete('lyon')", tenants_delete),
        ("no response showed a password or hash", no_secret),
    ]


def clean_after(admin):
    for call in (lambda: admin.users.delete(ALICE), lambda: admin.tenants.delete(LYON)):
        try:
            call()
        except Exception:  # best effort: the failure was already reported
            pass


def main():
    if not ADMIN or not ADMIN_PASSWORD:
        sys.stderr.write("client_test: set UCSV_CFY_USER and UCSV_CFY_PASSWORD "
                         "(a sys_admin account)\n")
        return 2
    print("cloudify: http://{0}:{1}/api/v3.1 as {2!r}, Tenant {3!r}".format(
        HOST, PORT, ADMIN, TENANT))
    admin = client(ADMIN, ADMIN_PASSWORD)
    passed = failed = 0
    for number, (name, step) in enumerate(steps(admin), 1):
        try:
            said = step()
        except Failed as e:
            failed += 1
            print("FAIL {0:2} {1}: {2}".format(number, name, e))
            print("     last exchange: {0}".format(WIRE.last()))
            break
        except CloudifyClientError as e:
            failed += 1
            print("FAIL {0:2} {1}: expected success, got {2} (status {3}, error_code {4!r})"
                  .format(number, name, type(e).__name__, e.status_code, e.error_code))
            print("     message: {0}".format(e))
            print("     last exchange: {0}".format(WIRE.last()))
            break
        except Exception as e:
            failed += 1
            print("FAIL {0:2} {1}: {2}: {3}".format(number, name, type(e).__name__, e))
            print("     last exchange: {0}".format(WIRE.last()))
            traceback.print_exc(file=sys.stdout)
            break
        passed += 1
        print("ok   {0:2} {1}: {2}".format(number, name, said))
    if failed:
        clean_after(admin)
    print("cloudify: {0} passed, {1} failed".format(passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
