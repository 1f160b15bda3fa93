from django.db import models


class RankKeyField(models.CharField):
    """A rank key compared byte-wise on every database.

    SQLite's default BINARY collation already compares bytes; PostgreSQL's default collation
    is locale-aware (``"aZ" > "aa"`` under en_US), so the column is created with the "C"
    collation there. ``db_collation="C"`` itself is not valid on SQLite, hence this field.
    """

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params
