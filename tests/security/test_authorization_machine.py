"""Authorisation as a state machine: nobody ever reads or changes what they should not.

Hypothesis builds worlds through the public API — families with children, lines and paired
devices, second guardians invited (some accept, some do not), guardians removed or leaving,
devices revoked, carrier keys revoked, staff signed in, the clock moved past token lifetimes —
and between those steps calls every route of ``ROUTES`` (tests/parental/test_authorization.py)
as a random caller (any token ever issued, a removed guardian's, a revoked device's, an expired
one, a refresh token, staff, the carrier, none) with ids drawn from every family's objects.

The model says who may: a guardian only with an unexpired token and only on the objects of the
family they belong to now; a device only while not revoked and only on its own child's
objects; staff and the carrier only on their routes. A refused call must be a 401 (for the
wrong kind of credential) or a 403/404, and must change nothing in the database (every table
compared, so a refused location read writes no audit row either). An allowed read must not be
refused, and what any guardian or device reads must not name another family's (or, for a
device, another child's) objects, accounts or phone numbers.

Each example gets a fresh database and runtime; the async app runs on one event loop that the
synchronous state machine drives step by step.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Coroutine, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import httpx
import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from parental.admin.models import StaffAccount
from parental.admin.service import STAFF_TOKEN_TTL
from parental.families.models import Guardian
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.lines import service as lines
from parental.runtime import Runtime
from tests.parental.factories import (
    STAFF_PASSWORD,
    add_child,
    build_family,
    carrier_headers,
    create_family,
    pair_device,
    publish_lists,
    register_line,
    sign_in,
)
from tests.parental.factories import (
    Guardian as FactoryGuardian,
)
from tests.parental.test_authorization import AREA, ROUTES, UNAUTHENTICATED_ERRORS
from tests.security.world import (
    ACCESS_TTL,
    AccountModel,
    Credential,
    DeviceModel,
    Expectation,
    FamilyModel,
    Harness,
    InvitationModel,
    Kind,
    Owned,
    changed_tables,
    snapshot,
)

T = TypeVar("T")

# Bounded so that CI stays fast: about a minute per configuration on a 2-core machine.
MACHINE_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Every route that takes credentials; the public ones (sign-in, pairing, the block page,
# health) have nothing to refuse.
ATTACKED = sorted((m, p) for (m, p), a in ROUTES.items() if a.caller != "public")
FAMILY_ROUTES = [(m, p) for m, p in ATTACKED if ROUTES[(m, p)].caller in ("guardian", "device")]
OWN_ROUTES = {
    "guardian": [(m, p) for m, p in ATTACKED if ROUTES[(m, p)].caller == "guardian"],
    "device": [(m, p) for m, p in ATTACKED if ROUTES[(m, p)].caller in ("device", "filter")],
}

# Path parameters that name an object the model keeps, by the kind of object.
MODELLED = {
    "family_id": "family",
    "child_id": "child",
    "device_id": "device",
    "account_id": "account",
    "invitation_id": "invitation",
    "place_id": "place",
    "entry_id": "entry",
    "task_id": "task",
    "command_id": "command",
    "msisdn": "line",
}
# Path parameters the model does not keep: a well-formed value that names nothing known.
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
UNMODELLED = {"app": "com.example.game", "conversation": "chat-1", "key": "gambling"}
UNMODELLED |= {"category": "gambling", "number": "1"}
UNKNOWN_LINE = "+77075559999"

# Reads that no caller can succeed at in these worlds (nothing was ever uploaded), so the
# model does not require them to succeed for an allowed caller.
NEVER_FOUND = {"/v1/children/{child_id}/commands/{command_id}/audio"}


def placeholders(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


class AuthorizationMachine(RuleBasedStateMachine):
    harness: ClassVar[Harness]

    def __init__(self) -> None:
        super().__init__()
        self.runtime, self.client, self._stop, self._task = self.harness.open()
        clock = self.runtime.clock
        assert isinstance(clock, FrozenClock)
        self.clock = clock
        self.accounts: dict[str, AccountModel] = {}
        self.families: dict[str, FamilyModel] = {}
        self.devices: dict[str, DeviceModel] = {}
        self.invitations: dict[str, InvitationModel] = {}
        self.owned: dict[str, Owned] = {}
        self.lines: dict[str, Owned] = {}
        self.staff: list[Credential] = []
        self.carrier: dict[str, Credential] = {}  # active keys by name
        self.revoked_carrier: list[Credential] = []
        self.phones = 0
        # The database as the last refused call left it, while nothing else has run since.
        self.last_snapshot: dict[str, list[str]] | None = None

    def teardown(self) -> None:
        self.harness.close(self._stop, self._task)

    def run(self, coro: Coroutine[Any, Any, T], *, writes: bool = True) -> T:
        if writes:
            self.last_snapshot = None
        return self.harness.run(coro)

    # -- helpers ------------------------------------------------------------------------------

    def _new_phone(self, prefix: str) -> str:
        self.phones += 1
        return f"{prefix}{1000 + self.phones}"

    def now(self) -> datetime:
        return self.clock.now()

    def valid(self, credential: Credential) -> bool:
        """Whether the credential still authenticates its kind of caller, per the model."""
        if credential.kind == "guardian":
            assert credential.issued_at is not None
            return self.now() < credential.issued_at + ACCESS_TTL
        if credential.kind == "staff":
            assert credential.issued_at is not None
            return self.now() < credential.issued_at + STAFF_TOKEN_TTL
        if credential.kind == "device":
            return not self.devices[credential.subject].revoked
        if credential.kind == "carrier":
            return credential.subject in self.carrier
        return False

    async def guardian_headers(self, account: AccountModel) -> dict[str, str]:
        """A working access token of ``account``: the newest, refreshed if it has expired."""
        latest = account.access[-1]
        if not self.valid(latest):
            refreshed = await self.client.post(
                "/v1/auth/tokens/refresh", json={"refresh_token": account.refresh}
            )
            assert refreshed.status_code == 200, refreshed.text
            tokens = refreshed.json()
            latest = Credential("guardian", account.id, tokens["access_token"], self.now())
            account.access.append(latest)
            account.refresh = tokens["refresh_token"]
        return latest.headers

    async def carrier_key(self) -> dict[str, str]:
        if not self.carrier:
            name = f"bss-{len(self.revoked_carrier) + 1}"
            key = await carrier_headers(self.runtime, name)
            self.carrier[name] = Credential("carrier", name, key["Authorization"].split()[1])
        return next(iter(self.carrier.values())).headers

    async def new_account(self, phone: str | None = None) -> AccountModel:
        phone = phone or self._new_phone("+7701555")
        signed_in = await sign_in(self.client, self.runtime, phone)
        credential = Credential(
            "guardian", signed_in.account_id, signed_in.access_token, self.now()
        )
        account = AccountModel(signed_in.account_id, phone, [credential], signed_in.refresh_token)
        self.accounts[account.id] = account
        return account

    async def new_family(self) -> None:
        owner = await self.new_account()
        family_id = await create_family(self.client, _as_guardian(owner))
        self.families[family_id] = FamilyModel(family_id, owner.id, [owner.id], {owner.id})
        self.owned[family_id] = Owned("family", family_id, None)
        owner.family = family_id
        await self.new_child(family_id, owner)

    async def new_child(self, family_id: str, by: AccountModel) -> None:
        line = self._new_phone("+7707555")
        await register_line(self.client, await self.carrier_key(), line, by.phone)
        headers = await self.guardian_headers(by)
        child = await add_child(self.client, _as_guardian(by, headers), line)
        child_id = child["id"]
        self.owned[child_id] = Owned("child", family_id, child_id)
        self.lines[line] = Owned("line", family_id, child_id)
        # One object of each kind the child routes take, so their ids can be tried by others.
        url = f"/v1/children/{child_id}"
        made = {
            "place": await self.client.post(
                f"{url}/places", headers=headers, json={"name": "School", "shape": AREA}
            ),
            "entry": await self.client.post(
                f"{url}/filter-profile/entries",
                headers=headers,
                json={"host": f"h{len(self.owned)}.test", "action": "block"},
            ),
            "task": await self.client.post(
                f"{url}/screen-time/tasks",
                headers=headers,
                json={"title": "Homework", "reward_minutes": 15},
            ),
            "command": await self.client.post(
                f"{url}/commands", headers=headers, json={"kind": "ring"}
            ),
        }
        for kind, response in made.items():
            assert response.status_code == 201, (kind, response.text)
            self.owned[response.json()["id"]] = Owned(kind, family_id, child_id)
        await self.new_device(child_id, by)  # last: a profile edit forgets cached callers

    async def new_device(self, child_id: str, by: AccountModel) -> None:
        headers = await self.guardian_headers(by)
        device_id, token = await pair_device(
            self.client, _as_guardian(by, headers), child_id, name=f"Phone {len(self.devices)}"
        )
        family = self.owned[child_id].family
        credential = Credential("device", device_id, token)
        self.devices[device_id] = DeviceModel(device_id, child_id, family, credential)
        self.owned[device_id] = Owned("device", family, child_id)
        # In-app browsing: the new device asks for a verdict (and is remembered as a caller).
        checked = await self.client.post(
            "/v1/filter/check", headers=credential.headers, json={"items": ["casino.test"]}
        )
        assert checked.status_code == 200, checked.text

    def credentials(self) -> list[Credential]:
        pool = [c for a in self.accounts.values() for c in a.access]
        newest = list(self.accounts.values())[-1]
        pool.append(Credential("refresh", newest.id, newest.refresh))
        pool += [d.credential for d in self.devices.values()]
        pool += self.staff + list(self.carrier.values()) + self.revoked_carrier
        pool += [Credential("garbage", "garbage", "garbage"), Credential("none", "none", None)]
        return pool

    def members(self, family_id: str) -> list[AccountModel]:
        return [self.accounts[a] for a in self.families[family_id].members]

    # -- building the world -------------------------------------------------------------------

    @initialize()
    def two_families(self) -> None:
        # A blocklist in force, so filter checks answer (and their callers get cached).
        self.run(publish_lists(self.runtime, {"gambling": ["casino.test"]}))
        self.run(self.new_family())
        self.run(self.new_family())

    @precondition(lambda self: len(self.families) < 4)
    @rule()
    def add_family(self) -> None:
        self.run(self.new_family())

    @precondition(lambda self: sum(o.kind == "child" for o in self.owned.values()) < 6)
    @rule(data=st.data())
    def add_child(self, data: st.DataObject) -> None:
        family_id = data.draw(st.sampled_from(list(self.families)), label="family")
        by = data.draw(st.sampled_from(self.members(family_id)), label="by")
        self.run(self.new_child(family_id, by))

    @precondition(lambda self: len(self.devices) < 9)
    @rule(data=st.data())
    def pair_another_device(self, data: st.DataObject) -> None:
        children = [k for k, o in self.owned.items() if o.kind == "child"]
        child_id = data.draw(st.sampled_from(children), label="child")
        family_id = self.owned[child_id].family
        by = data.draw(st.sampled_from(self.members(family_id)), label="by")
        self.run(self.new_device(child_id, by))

    @precondition(lambda self: len(self.accounts) < 10)
    @rule(data=st.data())
    def invite_guardian(self, data: st.DataObject) -> None:
        family_id = data.draw(st.sampled_from(list(self.families)), label="family")
        inviter = data.draw(st.sampled_from(self.members(family_id)), label="inviter")
        familyless = [a for a in self.accounts.values() if a.family is None]
        invitee = data.draw(st.sampled_from([None, *familyless]), label="invitee")
        answer = data.draw(st.sampled_from(["accept", "decline", "leave pending"]), label="answer")
        self.run(self._invite(family_id, inviter, invitee, answer))

    async def _invite(
        self, family_id: str, inviter: AccountModel, invitee: AccountModel | None, answer: str
    ) -> None:
        phone = invitee.phone if invitee else self._new_phone("+7701555")
        invited = await self.client.post(
            f"/v1/families/{family_id}/invitations",
            headers=await self.guardian_headers(inviter),
            json={"phone": phone},
        )
        if invited.status_code == 409:  # already invited to this family and still pending
            assert invited.json()["error"] == "InvitationPending", invited.text
            return
        assert invited.status_code == 201, invited.text
        invitation_id = invited.json()["id"]
        self.invitations[invitation_id] = InvitationModel(invitation_id, family_id, phone)
        self.owned[invitation_id] = Owned("invitation", family_id, None)
        self.families[family_id].invited_phones.add(phone)
        if invitee is None:
            invitee = await self.new_account(phone)
        if answer == "leave pending":
            return
        response = await self.client.post(
            f"/v1/invitations/{invitation_id}/{answer}",
            headers=await self.guardian_headers(invitee),
        )
        assert response.status_code == 200, response.text
        if answer == "accept":
            invitee.family = family_id
            self.families[family_id].members.append(invitee.id)
            self.families[family_id].ever_members.add(invitee.id)

    @precondition(lambda self: any(len(f.members) > 1 for f in self.families.values()))
    @rule(data=st.data(), leaves=st.booleans())
    def remove_guardian(self, data: st.DataObject, leaves: bool) -> None:
        family = data.draw(
            st.sampled_from([f for f in self.families.values() if len(f.members) > 1]),
            label="family",
        )
        member = data.draw(
            st.sampled_from([a for a in self.members(family.id) if a.id != family.owner]),
            label="member",
        )
        actor = member if leaves else self.accounts[family.owner]

        async def remove() -> None:
            response = await self.client.delete(
                f"/v1/families/{family.id}/guardians/{member.id}",
                headers=await self.guardian_headers(actor),
            )
            assert response.status_code == 204, response.text

        self.run(remove())
        family.members.remove(member.id)
        member.family = None

    @precondition(lambda self: any(not d.revoked for d in self.devices.values()))
    @rule(data=st.data())
    def revoke_device(self, data: st.DataObject) -> None:
        device = data.draw(
            st.sampled_from([d for d in self.devices.values() if not d.revoked]), label="device"
        )
        by = data.draw(st.sampled_from(self.members(device.family)), label="by")

        async def revoke() -> None:
            response = await self.client.delete(
                f"/v1/devices/{device.id}", headers=await self.guardian_headers(by)
            )
            assert response.status_code == 204, response.text

        self.run(revoke())
        device.revoked = True

    @rule(
        seconds=st.sampled_from([60, 899, 900, 901, 3600, int(STAFF_TOKEN_TTL.total_seconds()) + 1])
    )
    def let_time_pass(self, seconds: int) -> None:
        """Access tokens live 15 minutes and staff tokens 8 hours: some stop working."""
        self.clock.advance(timedelta(seconds=seconds))
        self.runtime.subjects.clear()  # far longer than filter_subject_cache_seconds

    @precondition(lambda self: len(self.staff) < 3)
    @rule(role=st.sampled_from(["curator", "admin"]))
    def add_staff(self, role: str) -> None:
        name = f"staff-{len(self.staff) + 1}"

        async def signed_in() -> str:
            # As ``parental create-staff`` does, but with a hash that takes a millisecond to
            # check rather than half a second (its parameters are part of the hash).
            async with transaction(self.runtime.sessions) as session:
                session.add(
                    StaffAccount(
                        username=name, password_hash=_cheap_hash(), role=role, created_at=self.now()
                    )
                )
            response = await self.client.post(
                "/admin/v1/auth/tokens", json={"username": name, "password": STAFF_PASSWORD}
            )
            assert response.status_code == 201, response.text
            token: str = response.json()["access_token"]
            return token

        self.staff.append(Credential("staff", name, self.run(signed_in()), self.now()))

    @precondition(lambda self: len(self.revoked_carrier) < 2)
    @rule()
    def revoke_carrier_key(self) -> None:
        """The carrier's key is revoked (as ``parental revoke-service-key`` does)."""

        async def revoke() -> None:
            await self.carrier_key()
            name = next(iter(self.carrier))
            async with transaction(self.runtime.sessions) as session:
                assert await lines.revoke_service_key(session, name=name, now=self.now())
            self.revoked_carrier.append(self.carrier.pop(name))
            # The command runs in another process: this one learns of it once its cache of
            # filter-check callers expires (filter_subject_cache_seconds).
            self.runtime.subjects.clear()

        self.run(revoke())

    # -- attacks --------------------------------------------------------------------------------

    @rule(data=st.data())
    def call_any_route(self, data: st.DataObject) -> None:
        self.attack(data, ATTACKED)

    @rule(data=st.data())
    def call_a_family_route(self, data: st.DataObject) -> None:
        self.attack(data, FAMILY_ROUTES)

    @rule(data=st.data())
    def call_own_kind_of_route(self, data: st.DataObject) -> None:
        """Guardians (removed ones, expired tokens) on guardian routes, devices (revoked ones)
        on device and filter routes: where the ids decide."""
        self.attack(data, OWN_ROUTES["guardian"], kinds=("guardian",))
        self.attack(data, OWN_ROUTES["device"], kinds=("device",))

    @rule(data=st.data())
    def device_asks_for_a_verdict(self, data: st.DataObject) -> None:
        """Any device, revoked ones too, checks a name as in-app browsing does."""
        self.attack(data, [("POST", "/v1/filter/check")], kinds=("device",))

    def attack(
        self, data: st.DataObject, routes: list[tuple[str, str]], kinds: tuple[Kind, ...] = ()
    ) -> None:
        callers = [c for c in self.credentials() if not kinds or c.kind in kinds]
        for _ in range(data.draw(st.integers(1, 3), label="calls")):
            credential = data.draw(st.sampled_from(callers), label="caller")
            method, path = data.draw(st.sampled_from(routes), label="route")
            values = {n: data.draw(self.values_for(n), label=n) for n in placeholders(path)}
            expected = self.expect(credential, method, path, values)
            if expected in ("allowed", "unknown") and (method != "GET" or "/stream" in path):
                # An allowed change would change the world behind the model's back, and an
                # allowed stream does not end.
                continue
            event(f"{ROUTES[(method, path)].caller} route, {credential.kind} caller: {expected}")
            self.run(self.call(credential, method, path, values, expected), writes=False)

    def values_for(self, name: str) -> st.SearchStrategy[str]:
        kind = MODELLED.get(name)
        if kind is None:
            return st.just(UNMODELLED.get(name, UNKNOWN_ID))
        if kind == "account":
            known = list(self.accounts)
        elif kind == "line":
            return st.sampled_from([*self.lines, UNKNOWN_LINE])
        else:
            known = [k for k, o in self.owned.items() if o.kind == kind]
        return st.sampled_from([*known, UNKNOWN_ID])

    def accepts(self, credential: Credential, caller: str) -> bool:
        """Whether the route's kind of caller authenticates with this credential."""
        valid = self.valid(credential)
        kinds = {
            "guardian": {"guardian"},
            "device": {"device"},
            "staff": {"staff"},
            "carrier": {"carrier"},
            "filter": {"carrier", "device", "staff"},
            "zone": {"carrier", "staff"},
        }[caller]
        return valid and credential.kind in kinds

    def expect(
        self, credential: Credential, method: str, path: str, values: dict[str, str]
    ) -> Expectation:
        caller = ROUTES[(method, path)].caller
        if not self.accepts(credential, caller):
            return "refused"
        names = placeholders(path)
        if caller == "guardian":
            account = self.accounts[credential.subject]
            for name in names:
                value = values[name]
                if name == "invitation_id" and path.startswith("/v1/invitations/"):
                    invitation = self.invitations.get(value)
                    if invitation is not None and invitation.phone != account.phone:
                        return "denied"  # addressed to someone else
                elif name == "account_id":
                    target = self.accounts.get(value)
                    if target is not None and target.family != account.family:
                        return "denied"  # not a guardian of the caller's family
                elif name in MODELLED:
                    owner = self.owned.get(value) or self.lines.get(value)
                    if owner is not None and owner.family != account.family:
                        return "denied"
        if caller == "device":
            device = self.devices[credential.subject]
            for name in names:
                owner = self.owned.get(values[name])
                if owner is not None and owner.child != device.child:
                    return "denied"
        known = all(
            values[n] in self.owned or values[n] in self.accounts or values[n] in self.lines
            for n in names
        )
        # An object of another child of the same family, under this child: not found, but no
        # boundary is crossed, so the model leaves it open.
        child = values.get("child_id")
        consistent = all(
            self.owned[values[n]].child == child
            for n in names
            if child and n != "child_id" and values[n] in self.owned
        )
        if method == "GET" and known and consistent and path not in NEVER_FOUND:
            return "allowed"
        return "unknown"

    async def call(
        self,
        credential: Credential,
        method: str,
        path: str,
        values: dict[str, str],
        expected: Expectation,
    ) -> None:
        url = path.format(**values)
        body = ROUTES[(method, path)].body
        where = f"{credential!r} {method} {url} (model: {expected})"
        refusal = expected in ("refused", "denied")
        before = (self.last_snapshot or await snapshot(self.runtime)) if refusal else None
        self.last_snapshot = None
        try:
            response = await asyncio.wait_for(
                self.client.request(method, url, headers=credential.headers, json=body), 10
            )
        except TimeoutError:
            pytest.fail(f"{where}: a stream was opened")
        where += f" -> {response.status_code} {response.text[:300]}"
        caller = ROUTES[(method, path)].caller
        if expected == "refused":
            assert response.status_code == 401, where
            assert response.json()["error"] == UNAUTHENTICATED_ERRORS[caller], where
        elif expected == "denied":
            assert response.status_code in (403, 404), where
            assert response.json()["error"].endswith(("NotFound", "Forbidden", "OwnerOnly")), where
        elif expected == "allowed":
            # Not refused; a conflict (no family yet), a missing query parameter or a rate
            # limit is an answer to a caller who may ask.
            assert response.status_code < 400 or response.status_code in (409, 422, 429), where
        if before is not None:
            after = await snapshot(self.runtime)
            assert after == before, f"{where}: changed {changed_tables(before, after)}"
            self.last_snapshot = after
        if response.status_code < 300 and credential.kind in ("guardian", "device"):
            leaked = sorted(
                s for s in self.secrets() - self.visible(credential) if s in response.text
            )
            assert not leaked, f"{where}: names {leaked}"

    # -- what each caller may see ---------------------------------------------------------------

    def family_names(self, family_id: str, child: str | None = None) -> set[str]:
        """The ids and numbers of a family's data (of one child's only, if ``child``)."""
        family = self.families[family_id]
        names = {family_id} | family.invited_phones
        for account_id in family.ever_members:
            names |= {account_id, self.accounts[account_id].phone}
        names |= {i.id for i in self.invitations.values() if i.family == family_id}
        for key, owner in (*self.owned.items(), *self.lines.items()):
            if owner.family == family_id and (child is None or owner.child in (None, child)):
                names.add(key)
        return names

    def secrets(self) -> set[str]:
        names: set[str] = set()
        for family_id in self.families:
            names |= self.family_names(family_id)
        return names | {a.phone for a in self.accounts.values()} | set(self.accounts)

    def visible(self, credential: Credential) -> set[str]:
        if credential.kind == "device":
            device = self.devices[credential.subject]
            return self.family_names(device.family, device.child)
        account = self.accounts[credential.subject]
        names = {account.id, account.phone}
        if account.family is not None:
            names |= self.family_names(account.family)
        for invitation in self.invitations.values():
            if invitation.phone == account.phone:
                names |= {invitation.id, invitation.family}
        return names

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def memberships_are_the_models(self) -> None:
        async def rows() -> set[tuple[str, str]]:
            async with self.runtime.sessions() as session:
                found = (await session.execute(select(Guardian))).scalars().all()
            return {(str(g.family_id), str(g.account_id)) for g in found}

        expected = {(f.id, a) for f in self.families.values() for a in f.members}
        assert self.run(rows()) == expected


@functools.cache
def _cheap_hash() -> str:
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(STAFF_PASSWORD)


def _as_guardian(account: AccountModel, headers: dict[str, str] | None = None) -> FactoryGuardian:
    """The factories' view of a guardian, with the given (or the newest) access token."""
    token = (headers or account.access[-1].headers)["Authorization"].split()[1]
    return FactoryGuardian(account.phone, account.id, token, account.refresh)


@pytest.fixture
def harness(database_template: str, tmp_path: Path) -> Iterator[Harness]:
    with asyncio.Runner() as runner:
        yield Harness(runner, database_template, tmp_path)


def test_nobody_reads_or_changes_what_they_should_not(harness: Harness) -> None:
    machine = type("Machine", (AuthorizationMachine,), {"harness": harness})
    run_state_machine_as_test(machine, settings=MACHINE_SETTINGS)


async def test_a_revoked_device_gets_no_more_verdicts(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """Found by the machine's model: a device that had asked for a verdict kept getting them
    after its revocation, for as long as this process remembered it as a caller."""
    await publish_lists(runtime, {"gambling": ["casino.test"]})
    carrier = await carrier_headers(runtime)
    world = await build_family(
        client, runtime, carrier, guardian_phone="+77015550001", line="+77075550001"
    )
    check = {"items": ["casino.test"]}
    asked = await client.post("/v1/filter/check", headers=world.device_headers, json=check)
    assert asked.status_code == 200, asked.text
    revoked = await client.delete(f"/v1/devices/{world.device_id}", headers=world.guardian.headers)
    assert revoked.status_code == 204, revoked.text
    again = await client.post("/v1/filter/check", headers=world.device_headers, json=check)
    assert again.status_code == 401, again.text
    assert again.json()["error"] == "InvalidFilterCaller"
