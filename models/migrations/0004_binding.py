"""Binding WeChat identities to people (services/binding.py): the bind_code table; every deputy gets the
one Account (role deputy) that carries their WeChat identities — an openid kept on the deputy record moves
onto it — and the deputy.openid column goes. Plain SQL on purpose: the account table may be as of 0003 here,
or have columns of later migrations already (those get their model defaults)."""
from playhouse.migrate import migrate


def up(db, migrator):
    from models import Account, BindCode, is_mysql, utcnow
    db.create_tables([BindCode])
    p = "%s" if is_mysql() else "?"

    def sql(text, *params):
        return db.execute_sql(text.replace("?", p), params)

    def person(deputy_id):
        return sql("SELECT id, openid FROM account WHERE deputy_id = ? AND role = 'deputy' ORDER BY id LIMIT 1",
                   deputy_id).fetchone()

    has_openid = "openid" in [c.name for c in db.get_columns("deputy")]
    openids = dict(sql("SELECT id, openid FROM deputy WHERE openid IS NOT NULL").fetchall()) if has_openid else {}
    fields = {f.column_name: f for f in Account._meta.sorted_fields}
    required = [c.name for c in db.get_columns("account") if not c.null and not c.primary_key
                and c.name in fields and fields[c.name].default is not None]
    for deputy_id, name in sql("SELECT id, name FROM deputy").fetchall():
        row = person(deputy_id)
        if row is None:
            values = {c: fields[c].default() if callable(fields[c].default) else fields[c].default for c in required}
            values.update(role="deputy", display_name=name, deputy_id=deputy_id, created_at=utcnow())
            sql(f"INSERT INTO account ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                *values.values())
            row = person(deputy_id)
        openid = openids.get(deputy_id)
        if openid and not row[1] and not sql("SELECT 1 FROM account WHERE openid = ?", openid).fetchone():
            sql("UPDATE account SET openid = ? WHERE id = ?", openid, row[0])
    if has_openid:
        for index in db.get_indexes("deputy"):
            if index.columns == ["openid"]:
                migrate(migrator.drop_index("deputy", index.name))
        migrate(migrator.drop_column("deputy", "openid"))
