"""The offices' clock: China has one time zone, UTC+8, without daylight saving.

Events are stamped in UTC; dates and times people read or type are in this zone.
"""

from __future__ import annotations

import datetime as dt

CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
