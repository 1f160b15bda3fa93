"""A bench-only app: django-ordered-model's integer positions, the baseline of ``bench/scale.py``.

Installed only by ``bench/settings.py``; it has no migrations (the benchmark creates its table
with the schema editor), so nothing of it reaches the product's database.
"""
