"""The audit log: append-only entries naming who, what, which target and from where."""
from models import Account, AuditLog, Deputy
from services import audit
from services.workflow import Actor


def test_an_entry_names_the_actor_the_target_and_the_address(app):
    staff = Account.create(role="staff", username="clerk", display_name="李文")
    deputy = Deputy.create(code="DB0001", name="王建华", level="county")
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        audit.record(Actor.of(staff), "bind", deputy, {"via": "official_account"})
    entry = AuditLog.get()
    assert (entry.actor_id, entry.actor_role, entry.actor_name) == (staff.id, "staff", "李文")
    assert (entry.action, entry.target_type, entry.target_id, entry.ip) == ("bind", "deputy", "DB0001", "10.1.2.3")
    assert entry.detail == {"via": "official_account"}
    assert [e.id for e in audit.entries(target=deputy)] == [entry.id]
    assert audit.entries(target=("deputy", "DB0002")) == []


def test_the_system_can_be_the_actor(app):
    audit.record(None, "purge_personal_data", ("case", "2026-000001"))
    entry = AuditLog.get()
    assert (entry.actor_id, entry.actor_role, entry.ip) == (None, "system", "")
