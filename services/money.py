"""Money as whole fen (分): parsed from what a person types in yuan, shown back in yuan. Nothing is ever a float."""
import re
from decimal import Decimal

from services.errors import InvalidInput

YUAN = re.compile(r"^\d{1,12}(\.\d{1,2})?$")


def fen(data, name, label, required=True):
    """A non-negative amount in yuan with at most two decimals ("12,345.60", "5万" is not accepted) → fen."""
    value = str(data.get(name) or "").strip().replace(",", "").replace("，", "").removesuffix("元")
    if not value:
        if required:
            raise InvalidInput("missing_field", f"请填写{label}", field=name)
        return None
    if not YUAN.match(value):
        raise InvalidInput("invalid_amount", f"{label}应为金额（元），最多两位小数", field=name)
    return int(Decimal(value) * 100)


def yuan(amount):
    """fen → "12,345.60"."""
    amount = int(amount or 0)
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{sign}{whole:,}.{cents:02d}"
