import django.core.serializers.json
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_product_search_language"),
    ]

    operations = [
        migrations.CreateModel(
            name="IdempotencyKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sender", models.CharField(help_text="Whose key: user:<id> or intake:<id>.", max_length=40)),
                ("key", models.CharField(max_length=255)),
                (
                    "endpoint",
                    models.CharField(help_text="The method and path it was first sent to.", max_length=300),
                ),
                (
                    "request_hash",
                    models.CharField(help_text="SHA-256 of the request body (key order ignored).", max_length=64),
                ),
                ("status_code", models.PositiveSmallIntegerField()),
                ("body", models.JSONField(encoder=django.core.serializers.json.DjangoJSONEncoder)),
                (
                    "headers",
                    models.JSONField(
                        blank=True, default=dict, help_text="The answer's ETag and Location, when it had them."
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "indexes": [models.Index(fields=["created_at"], name="idempotency_created")],
                "constraints": [
                    models.UniqueConstraint(fields=("sender", "key"), name="idempotency_one_key_per_sender")
                ],
            },
        ),
    ]
