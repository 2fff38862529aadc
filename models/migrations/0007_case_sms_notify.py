"""Case.sms_notify: the reporter ticked 接收短信提醒 (SMS reminders to the phone left on the report)."""
from peewee import BooleanField
from playhouse.migrate import migrate


def up(db, migrator):
    if "sms_notify" not in {c.name for c in db.get_columns("case")}:  # safe to run again
        migrate(migrator.add_column("case", "sms_notify", BooleanField(default=False)))
