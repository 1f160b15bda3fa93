from rest_framework import serializers

from backlog.models import Item


class SearchItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    key = serializers.CharField()
    product = serializers.CharField(source="product.key")
    number = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=Item.Kind.choices)
    status = serializers.ChoiceField(choices=Item.Status.choices)
    url = serializers.CharField(source="get_absolute_url", help_text="The item's page.")


class SearchHitSerializer(serializers.Serializer):
    item = SearchItemSerializer()
    rank = serializers.FloatField(help_text="Higher is better; comparable within one query only.")
    title_html = serializers.CharField(help_text="The title, HTML-escaped, with matches in <mark>.")
    snippet_html = serializers.CharField(
        help_text="Matching text from the description, acceptance criteria or comments, HTML-escaped, "
        "matches in <mark>; empty when only the title matched."
    )


class SearchResponseSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True, help_text="The next page (null on the last).")
    key_match = SearchItemSerializer(allow_null=True, help_text="The item q names by key (OB-48, ob-48, 48).")
    results = SearchHitSerializer(many=True)
