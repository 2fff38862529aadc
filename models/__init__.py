"""peewee tables and the database proxy. Import tables from here: `from models import Case, db`."""
from .base import BaseModel, JSONField, db, is_mysql, keeps_connection, open_database, retried, utcnow, write_transaction  # noqa: F401
from .tables import *  # noqa: F401,F403
from .tables import ALL_MODELS  # noqa: F401
