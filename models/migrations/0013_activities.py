"""Activities and reception days (with their repeating rules, attendance and check-in, bookings, the reports
received there), 代表联系组, 双联系 contacts and 述职 (services/activities.py, services/dutyrecord.py)."""


def up(db, migrator):
    from models import DUTY_MODELS
    db.create_tables(DUTY_MODELS)
