"""Adding members tells nobody which usernames exist (issue 11, item 7): an unknown name
is invited with the same answer a known one gets, and the invitation becomes a membership
when that user is created."""

from __future__ import annotations

import pytest
from identity_harness import Harness

pytestmark = pytest.mark.integration


async def test_adding_a_known_and_an_unknown_name_answers_alike(h: Harness) -> None:
    await h.user("owner")
    await h.user("known-user", full_name="Nino Beridze")
    owner = await h.headers("owner")
    cid = await h.company(owner)
    url = f"/api/v1/companies/{cid}/members"

    known = await h.client.post(url, headers=owner,
                                json={"username": "known-user", "role": "accountant"})
    unknown = await h.client.post(url, headers=owner,
                                  json={"username": "nobody-yet", "role": "accountant"})

    assert (known.status_code, unknown.status_code) == (201, 201), unknown.text
    # The same shape and the same fields: only the name the caller sent differs.
    assert {**known.json(), "username": "x"} == {**unknown.json(), "username": "x"}
    assert "full_name" not in known.text or known.json()["full_name"] == ""


async def test_an_invitation_becomes_a_membership_when_the_user_is_created(h: Harness) -> None:
    await h.user("owner")
    owner = await h.headers("owner")
    cid = await h.company(owner)
    url = f"/api/v1/companies/{cid}/members"
    r = await h.client.post(url, headers=owner, json={"username": "Later", "role": "auditor"})
    assert r.status_code == 201, r.text
    listed = {m["username"]: (m["role"], m["status"])
              for m in (await h.client.get(url, headers=owner)).json()}
    assert listed["Later"] == ("auditor", "invited")

    await h.user("later")  # usernames compare without case
    later = await h.headers("later")
    me = (await h.client.get("/api/v1/me", headers=later)).json()
    assert [(m["company_id"], m["role"]) for m in me["memberships"]] == [(str(cid), "auditor")]
    listed = {m["username"].lower(): (m["role"], m["status"])
              for m in (await h.client.get(url, headers=owner)).json()}
    assert listed["later"] == ("auditor", "active")
    audit = (await h.client.get(f"/api/v1/companies/{cid}/audit/identity",
                                headers=owner)).json()
    assert [e["type"] for e in audit][:2] == ["MemberAdded", "MemberInvited"]


async def test_a_withdrawn_invitation_grants_nothing(h: Harness) -> None:
    await h.user("owner")
    owner = await h.headers("owner")
    cid = await h.company(owner)
    url = f"/api/v1/companies/{cid}/members"
    await h.client.post(url, headers=owner, json={"username": "ghost", "role": "accountant"})
    removed = await h.client.delete(f"{url}/ghost", headers=owner)
    assert removed.status_code == 204, removed.text
    await h.user("ghost")
    me = (await h.client.get("/api/v1/me", headers=await h.headers("ghost"))).json()
    assert me["memberships"] == []
    # Changing the role of a name that is neither a member nor a user: the member answer.
    r = await h.client.put(f"{url}/stranger", headers=owner, json={"role": "auditor"})
    assert (r.status_code, r.json()["code"]) == (404, "member_not_found")
