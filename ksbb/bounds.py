"""Integer bounds that hold on every database the portal runs on.

PostgreSQL refuses an integer above its column type (a server error), while SQLite stores
any 64-bit value; Django only adds a maximum for the database in use. These validators put
PostgreSQL's limits on the model fields themselves, so that every form built from a model
(the admin's included) refuses the same values on both, with a message instead of an error.
"""

from django.core.validators import MaxValueValidator

INTEGER_MAX = 2_147_483_647  # PostgreSQL "integer" (PositiveIntegerField)
SMALLINT_MAX = 32_767  # PostgreSQL "smallint" (PositiveSmallIntegerField)


def fits_integer() -> list[MaxValueValidator]:
    return [MaxValueValidator(INTEGER_MAX)]


def fits_smallint() -> list[MaxValueValidator]:
    return [MaxValueValidator(SMALLINT_MAX)]


BIGINT_MAX = 9_223_372_036_854_775_807  # ids (BigAutoField); SQLite refuses anything larger
