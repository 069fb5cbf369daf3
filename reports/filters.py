"""Report filters, parsed from a request or the command line, with the user's province scope."""
import dataclasses
import datetime

from backoffice.roles import PROVINCIAL
from backoffice.workflow.states import BUSINESS_TYPES
from models import Province, Specialty


class FilterError(Exception):
    def __init__(self, errors):
        super().__init__('；'.join(errors.values()))
        self.errors = errors


@dataclasses.dataclass
class Filters:
    province_id: int = None
    date_from: datetime.date = None
    date_to: datetime.date = None
    business_type: str = None
    specialty_id: int = None

    def as_args(self):
        out = {}
        for key, value in dataclasses.asdict(self).items():
            if value not in (None, ''):
                out[key] = value.isoformat() if isinstance(value, datetime.date) else value
        return out


def parse(values, user=None):
    """Filters from a mapping of strings; a provincial officer is held to their province."""
    errors = {}
    f = Filters()
    raw = (values.get('province_id') or '').strip()
    if raw:
        if not raw.isdigit() or not Province.get_or_none(Province.id == int(raw)):
            errors['province_id'] = '省份无效'
        else:
            f.province_id = int(raw)
    for key in ('date_from', 'date_to'):
        raw = (values.get(key) or '').strip()
        if raw:
            try:
                setattr(f, key, datetime.date.fromisoformat(raw))
            except ValueError:
                errors[key] = '日期无效，请按“年-月-日”填写'
    if f.date_from and f.date_to and f.date_from > f.date_to:
        errors['date_to'] = '结束日期不能早于开始日期'
    raw = (values.get('business_type') or '').strip()
    if raw:
        if raw not in BUSINESS_TYPES:
            errors['business_type'] = '业务类型无效'
        else:
            f.business_type = raw
    raw = (values.get('specialty_id') or '').strip()
    if raw:
        if not raw.isdigit() or not Specialty.get_or_none(Specialty.id == int(raw)):
            errors['specialty_id'] = '专业无效'
        else:
            f.specialty_id = int(raw)
    if user is not None and user.role == PROVINCIAL:
        f.province_id = user.province_id
    if errors:
        raise FilterError(errors)
    return f
