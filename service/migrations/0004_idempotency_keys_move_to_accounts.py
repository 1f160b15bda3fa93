"""The intake's idempotency keys move to accounts.IdempotencyKey, the one mechanism of every
creating POST: each stored answer is copied (the same sender, key, body hash and answer, at the
intake's path), so a retry within its 24 hours is still answered the same."""

from django.db import migrations


def copy_keys(apps, schema_editor):
    old = apps.get_model("service", "IdempotencyKey")
    new = apps.get_model("accounts", "IdempotencyKey")
    taken = set(new.objects.values_list("sender", "key"))
    rows = []
    for row in old.objects.select_related("product").order_by("-created_at").iterator():
        if (row.sender, row.key) in taken:
            continue  # the same sender's key at two products' intakes: the newest answer stays
        taken.add((row.sender, row.key))
        rows.append(
            new(
                sender=row.sender,
                key=row.key,
                endpoint=f"POST /API/V1/PRODUCTS/{row.product.key.upper()}/INTAKE/",
                request_hash=row.request_hash,
                status_code=row.status_code,
                body=row.body,
                headers={},
                created_at=row.created_at,
            )
        )
    new.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0012_idempotency_keys"),
        ("service", "0003_queue_order_index"),
    ]

    operations = [
        migrations.RunPython(copy_keys, migrations.RunPython.noop),
        migrations.DeleteModel(name="IdempotencyKey"),
    ]
