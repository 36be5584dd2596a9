# Natural English dates: "Dec 1, 2026, 11:07 p.m." (Django's stock short format is "12/01/2026 11:07 p.m.").
DATE_FORMAT = "M j, Y"
TIME_FORMAT = "g:i a"
DATETIME_FORMAT = "M j, Y, g:i a"
SHORT_DATE_FORMAT = "M j, Y"
SHORT_DATETIME_FORMAT = "M j, Y, g:i a"
MONTH_DAY_FORMAT = "F j"
YEAR_MONTH_FORMAT = "F Y"
