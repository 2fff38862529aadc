"""peewee tables and the database proxy. Import tables from here: `from models import Case, db`."""
from .base import (BaseModel, JSONField, create_row, db, insert_rows, is_mysql, keeps_connection, open_database,  # noqa: F401
                   retried, row_where, utcnow, write_transaction, writers_turn)
from .tables import *  # noqa: F401,F403
from .tables import ALL_MODELS  # noqa: F401
