"""The roadmap API: each theme with the forecast of its last item against its target date."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.access import access_product
from config.api import reject_unknown_parameters
from delivery.roadmap import STATE_WORDS, roadmap


class RoadmapRowSerializer(serializers.Serializer):
    theme = serializers.IntegerField(source="theme.pk", help_text="The theme's id.")
    title = serializers.CharField(source="theme.title")
    colour = serializers.CharField(source="theme.colour")
    target_date = serializers.DateField(source="theme.target_date", allow_null=True)
    last_item = serializers.CharField(
        source="last_item.key", allow_null=True, default=None, help_text="Its last item in the order."
    )
    likely_sprint = serializers.IntegerField(
        source="forecast.sprint", allow_null=True, default=None, help_text="The last item's likely sprint."
    )
    likely_date = serializers.DateField(source="likely", allow_null=True, help_text="That sprint's end.")
    p50_date = serializers.DateField(source="p50", allow_null=True, help_text="Done by then in 50 % of futures.")
    p85_date = serializers.DateField(source="p85", allow_null=True, help_text="Done by then in 85 % of futures.")
    state = serializers.ChoiceField(
        choices=list(STATE_WORDS),
        help_text="late (target before the 50 % date), at_risk (before the 85 % date), on_track, no_target, "
        "unforecast (no capacity for its class), not_started (nothing in the order).",
    )


class RoadmapApi(GenericAPIView):
    serializer_class = RoadmapRowSerializer
    pagination_class = None  # a product has at most 100 themes

    @extend_schema(
        summary="The roadmap: each theme by the forecast of its last item, against its target date",
        responses=RoadmapRowSerializer(many=True),
    )
    def get(self, request, key: str):
        reject_unknown_parameters(request, set())
        product, _ = access_product(request.user, key)
        return Response(RoadmapRowSerializer(roadmap(product=product), many=True).data)
