"""Security (issue 14): the server-side session version of every account (logout and password change end
older sessions and tokens), and phone numbers encrypted at rest (models/sealing.py): the columns widened
to 128 characters, the numbers already there sealed. Safe to run again."""
from peewee import IntegerField

SEALED = (("account", "phone"), ("case", "contact_phone"))


def up(db, migrator):
    from playhouse.migrate import migrate

    from models import is_mysql, sealing
    if "session_version" not in {c.name for c in db.get_columns("account")}:
        migrate(migrator.add_column("account", "session_version", IntegerField(default=0)))
    for table, column in SEALED:
        if is_mysql():   # SQLite does not enforce VARCHAR lengths
            db.execute_sql(f"ALTER TABLE `{table}` MODIFY `{column}` VARCHAR(128) NOT NULL DEFAULT ''")
        q = '`' if is_mysql() else '"'
        mark = "%s" if is_mysql() else "?"
        rows = db.execute_sql(f"SELECT id, {q}{column}{q} FROM {q}{table}{q} WHERE {q}{column}{q} != ''").fetchall()
        for row_id, value in rows:
            if not value.startswith(sealing.PREFIX):
                db.execute_sql(f"UPDATE {q}{table}{q} SET {q}{column}{q} = {mark} WHERE id = {mark}",
                               (sealing.seal(value), row_id))
