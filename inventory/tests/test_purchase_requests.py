"""Purchase requests: numbering, totals, the state machine, receiving into stock."""

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from accounts.tests.factories import MembershipFactory
from audit.models import AuditEvent
from core.roles import Role
from inventory.models import PurchaseRequest, StockLevel, StockMovement
from inventory.tests.factories import ProductFactory, PurchaseRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(api_client_for, tenant_a, stocked):
    with tenant_context(tenant_a):
        washer = ProductFactory(sku="WASHER")
    body = {
        "supplier": str(stocked["supplier"].pk),
        "note": "restock",
        "lines": [
            {"product": str(stocked["product"].pk), "quantity": "3", "unit_price": "0.10"},
            {"product": str(washer.pk), "quantity": "0.333", "unit_price": "3.00"},
        ],
    }
    response = api_client_for(tenant_a, role="member").post("/api/v1/purchase-requests/", body)
    assert response.status_code == 201, response.json()
    return response.json()


def act(client, pr, name, **body):
    return client.post(f"/api/v1/purchase-requests/{pr['id']}/{name}/", body)


def test_create_numbers_and_totals_in_decimal(draft, api_client_for, tenant_a, tenant_b):
    assert draft["status"] == "draft" and draft["number"].startswith("PR-") and len(draft["number"]) == 9
    # 3 x 0.10 + 0.333 x 3.00 = 0.30 + 0.999 = 1.299 -> 1.30, no float drift.
    assert [line["total"] for line in draft["lines"]] == ["0.30", "1.00"]
    assert draft["total"] == "1.30"
    assert draft["created_by"]["email"] == "member@alpha.test"
    line = {"product": draft["lines"][0]["product"], "quantity": "1", "unit_price": "1"}
    second = api_client_for(tenant_a, role="member").post(
        "/api/v1/purchase-requests/", {"supplier": draft["supplier"], "lines": [line]}
    )
    assert int(second.json()["number"][3:]) == int(draft["number"][3:]) + 1


def test_full_path_keeps_who_and_when_and_receives_into_stock(draft, api_client_for, tenant_a, stocked):
    member, manager = api_client_for(tenant_a, role="member"), api_client_for(tenant_a, role="manager")
    submitted = act(member, draft, "submit").json()
    assert submitted["status"] == "submitted" and submitted["submitted_by"]["email"] == "member@alpha.test"
    assert submitted["submitted_at"]
    approved = act(manager, draft, "approve").json()
    assert approved["status"] == "approved" and approved["decided_by"]["email"] == "manager@alpha.test"
    received = act(manager, draft, "receive", warehouse=str(stocked["spare"].pk))
    assert received.status_code == 200, received.json()
    body = received.json()
    assert body["status"] == "received" and body["received_into"] == str(stocked["spare"].pk)
    with tenant_context(tenant_a):
        movements = StockMovement.objects.filter(purchase_request_id=draft["id"], kind="receipt")
        assert sorted((m.product.sku, m.quantity, m.reference) for m in movements) == [
            ("BOLT-10", Decimal("3.000"), draft["number"]),
            ("WASHER", Decimal("0.333"), draft["number"]),
        ]
        assert StockLevel.objects.get(product=stocked["product"], warehouse=stocked["spare"]).quantity == Decimal("3")
        actions = list(AuditEvent.objects.filter(object_id=draft["id"]).order_by("at").values_list("action", flat=True))
    assert actions == [
        "purchase_request.created",
        "purchase_request.submitted",
        "purchase_request.approved",
        "purchase_request.received",
    ]


def test_reject_needs_a_reason(draft, api_client_for, tenant_a):
    manager = api_client_for(tenant_a, role="manager")
    act(api_client_for(tenant_a, role="member"), draft, "submit")
    response = act(manager, draft, "reject")
    assert response.status_code == 400 and "reason" in response.json()
    blank = act(manager, draft, "reject", reason="   ")
    assert blank.status_code == 400 and "reason" in blank.json()
    rejected = act(manager, draft, "reject", reason="Too expensive").json()
    assert rejected["status"] == "rejected" and rejected["rejection_reason"] == "Too expensive"


@pytest.mark.parametrize(
    "path,bad",
    [
        ([], ["approve", "reject", "receive"]),
        (["submit"], ["submit", "receive"]),
        (["submit", "approve"], ["submit", "approve", "reject"]),
        (["submit", "approve", "receive"], ["submit", "approve", "reject", "receive", "cancel"]),
        (["submit", "reject"], ["submit", "approve", "receive", "cancel"]),
        (["cancel"], ["submit", "approve", "reject", "receive", "cancel"]),
    ],
)
def test_any_other_transition_is_409(draft, api_client_for, tenant_a, stocked, path, bad):
    owner = api_client_for(tenant_a, role="owner")
    extra = {"reject": {"reason": "no"}, "receive": {"warehouse": str(stocked["main"].pk)}}
    for step in path:
        assert act(owner, draft, step, **extra.get(step, {})).status_code == 200
    status = owner.get(f"/api/v1/purchase-requests/{draft['id']}/").json()["status"]
    for step in bad:
        response = act(owner, draft, step, **extra.get(step, {}))
        assert response.status_code == 409, (path, step)
        assert response.json()["code"] == "invalid_transition"
    assert owner.get(f"/api/v1/purchase-requests/{draft['id']}/").json()["status"] == status


def test_only_drafts_are_editable(draft, api_client_for, tenant_a, stocked):
    member = api_client_for(tenant_a, role="member")
    edited = member.patch(
        f"/api/v1/purchase-requests/{draft['id']}/",
        {"note": "urgent", "lines": [{"product": str(stocked["product"].pk), "quantity": "7", "unit_price": "2"}]},
    )
    assert edited.status_code == 200 and edited.json()["total"] == "14.00" and len(edited.json()["lines"]) == 1
    act(member, draft, "submit")
    locked = member.patch(f"/api/v1/purchase-requests/{draft['id']}/", {"note": "changed"})
    assert locked.status_code == 409 and locked.json()["code"] == "not_editable"


def test_request_without_lines_and_duplicate_lines_are_refused(api_client_for, tenant_a, stocked):
    member = api_client_for(tenant_a, role="member")
    supplier = str(stocked["supplier"].pk)
    with tenant_context(tenant_a):
        before = PurchaseRequest.objects.count()
    for body in ({"supplier": supplier, "lines": []}, {"supplier": supplier}):
        empty = member.post("/api/v1/purchase-requests/", body)
        assert empty.status_code == 400 and list(empty.json()) == ["lines"], empty.json()
    assert member.post("/api/v1/purchase-requests/", {"supplier": supplier, "lines": []}).json()["lines"] == [
        "A purchase request needs at least one line."
    ]
    line = {"product": str(stocked["product"].pk), "quantity": "1", "unit_price": "1"}
    twice = member.post("/api/v1/purchase-requests/", {"supplier": supplier, "lines": [line, line]})
    assert twice.status_code == 400 and "lines" in twice.json()
    with tenant_context(tenant_a):
        assert PurchaseRequest.objects.count() == before


def test_a_draft_cannot_be_edited_down_to_no_lines(draft, api_client_for, tenant_a):
    member = api_client_for(tenant_a, role="member")
    emptied = member.patch(f"/api/v1/purchase-requests/{draft['id']}/", {"lines": []})
    assert emptied.status_code == 400 and "lines" in emptied.json()
    assert len(member.get(f"/api/v1/purchase-requests/{draft['id']}/").json()["lines"]) == 2


def test_refused_creates_take_no_number(draft, api_client_for, tenant_a, stocked):
    """A 400 (no lines, a product twice, a bad quantity) leaves the numbering without a gap."""
    member = api_client_for(tenant_a, role="member")
    supplier, product = str(stocked["supplier"].pk), str(stocked["product"].pk)
    line = {"product": product, "quantity": "1", "unit_price": "1"}
    for refused in (
        {"supplier": supplier, "lines": []},
        {"supplier": supplier, "lines": [line, line]},
        {"supplier": supplier, "lines": [{**line, "quantity": "0"}]},
    ):
        assert member.post("/api/v1/purchase-requests/", refused).status_code == 400
    following = member.post("/api/v1/purchase-requests/", {"supplier": supplier, "lines": [line]})
    assert following.status_code == 201
    assert int(following.json()["number"][3:]) == int(draft["number"][3:]) + 1


@pytest.mark.parametrize(
    "line,field",
    [
        ({"quantity": "0", "unit_price": "1"}, "quantity"),
        ({"quantity": "-1", "unit_price": "1"}, "quantity"),
        ({"quantity": "1", "unit_price": "-0.01"}, "unit_price"),
        ({"quantity": "1", "unit_price": "1.001"}, "unit_price"),
        ({"quantity": "1"}, "unit_price"),
    ],
)
def test_bad_lines_are_400(api_client_for, tenant_a, stocked, line, field):
    with tenant_context(tenant_a):
        before = PurchaseRequest.objects.count()
    body = {"supplier": str(stocked["supplier"].pk), "lines": [{"product": str(stocked["product"].pk), **line}]}
    response = api_client_for(tenant_a, role="member").post("/api/v1/purchase-requests/", body)
    assert response.status_code == 400 and field in response.json()["lines"]["0"]
    with tenant_context(tenant_a):
        assert PurchaseRequest.objects.count() == before


def test_roles_on_transitions(draft, api_client_for, tenant_a):
    member = api_client_for(tenant_a, role="member")
    viewer = api_client_for(tenant_a, role="viewer")
    assert act(viewer, draft, "submit").status_code == 403
    act(member, draft, "submit")
    assert act(member, draft, "approve").status_code == 403
    # A member may cancel their own request, not someone else's.
    assert act(api_client_for(tenant_a, user=None, role="admin"), draft, "approve").status_code == 200
    other = api_client_for(tenant_a, role="member")
    assert act(other, draft, "cancel").status_code == 200  # same member user created it


def test_member_cannot_cancel_someone_elses_request(api_client_for, tenant_a, stocked):
    manager = api_client_for(tenant_a, role="manager")
    line = {"product": str(stocked["product"].pk), "quantity": "1", "unit_price": "1"}
    created = manager.post(
        "/api/v1/purchase-requests/", {"supplier": str(stocked["supplier"].pk), "lines": [line]}
    ).json()
    assert act(api_client_for(tenant_a, role="member"), created, "cancel").status_code == 403
    assert act(manager, created, "cancel").json()["status"] == "cancelled"


def test_member_edits_submits_and_cancels_only_their_own_requests(draft, api_client_for, tenant_a):
    other_member = MembershipFactory(tenant=tenant_a, role=Role.MEMBER).user
    stranger = api_client_for(tenant_a, user=other_member)
    url = f"/api/v1/purchase-requests/{draft['id']}/"
    before = stranger.get(url).json()
    refused = [
        stranger.patch(url, {"note": "mine now"}),
        act(stranger, draft, "submit"),
        act(stranger, draft, "cancel"),
    ]
    assert [response.status_code for response in refused] == [403, 403, 403]
    assert api_client_for(tenant_a, role="member").get(url).json() == before
    with tenant_context(tenant_a):
        actions = list(AuditEvent.objects.filter(object_id=draft["id"]).values_list("action", flat=True))
    assert actions == ["purchase_request.created"]


def test_manager_edits_submits_and_cancels_anyones_requests(draft, api_client_for, tenant_a):
    manager = api_client_for(tenant_a, role="manager")
    edited = manager.patch(f"/api/v1/purchase-requests/{draft['id']}/", {"note": "checked by manager"})
    assert edited.status_code == 200 and edited.json()["note"] == "checked by manager"
    submitted = act(manager, draft, "submit").json()
    assert submitted["status"] == "submitted" and submitted["submitted_by"]["email"] == "manager@alpha.test"
    assert submitted["created_by"]["email"] == "member@alpha.test"
    assert act(manager, draft, "cancel").json()["status"] == "cancelled"


def test_delete_only_drafts_cancelled_or_rejected(draft, api_client_for, tenant_a):
    admin = api_client_for(tenant_a, role="admin")
    act(admin, draft, "submit")
    response = admin.delete(f"/api/v1/purchase-requests/{draft['id']}/")
    assert response.status_code == 409
    act(admin, draft, "cancel")
    assert admin.delete(f"/api/v1/purchase-requests/{draft['id']}/").status_code == 204


@pytest.mark.parametrize("status", ["submitted", "approved", "received"])
def test_refused_delete_advises_what_the_state_machine_allows(tenant_a, api_client_for, status):
    """The advice of a refused delete is a step that works: cancel where cancelling is
    allowed (then the delete succeeds); for a received request, nothing."""
    with tenant_context(tenant_a):
        made = PurchaseRequestFactory(status=status)
    admin, url = api_client_for(tenant_a, role="admin"), f"/api/v1/purchase-requests/{made.pk}/"
    refused = admin.delete(url)
    assert refused.status_code == 409 and refused.json()["code"] == "still_referenced"
    message = refused.json()["detail"]
    cancelled = act(admin, {"id": str(made.pk)}, "cancel")
    if status == "received":
        kept = "it is kept as the record of its stock receipts and cannot be deleted or cancelled"
        assert message == f"{made.number} is received: {kept}."
        assert cancelled.status_code == 409
        assert admin.delete(url).status_code == 409
    else:
        assert message == f"{made.number} is {status}: cancel it first; a cancelled request can be deleted."
        assert cancelled.status_code == 200
        assert admin.delete(url).status_code == 204


def test_list_filters(draft, api_client_for, tenant_a):
    member = api_client_for(tenant_a, role="member")
    assert member.get("/api/v1/purchase-requests/?status=draft").json()["count"] == 1
    assert member.get("/api/v1/purchase-requests/?status=approved").json()["count"] == 0
    assert member.get(f"/api/v1/purchase-requests/?search={draft['number']}").json()["count"] == 1
    assert member.get("/api/v1/purchase-requests/?status=bogus").status_code == 400
