from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from backlog.access import access_item
from backlog.api.shared import ITEM_REF
from config.api import reject_unknown_parameters, validated_input
from notifications.api import serializers as s
from notifications.models import Event
from notifications.selectors import preferences_for, watch_state
from notifications.services import preferences_update, watch_set


def _preferences(preferences) -> dict:
    return {name: getattr(preferences, name) for name in (*Event.values, "digest")}


class PreferencesApi(GenericAPIView):
    serializer_class = s.PreferencesSerializer
    pagination_class = None

    @extend_schema(
        summary="Your notification preferences: a channel per event, and the e-mail digest",
        responses=s.PreferencesSerializer,
    )
    def get(self, request):
        reject_unknown_parameters(request, set())
        return Response(_preferences(preferences_for(user=request.user)))

    @extend_schema(
        summary="Change some of your notification preferences (the others keep their value)",
        request=s.PreferencesSerializer,
        responses=s.PreferencesSerializer,
    )
    def patch(self, request):
        changes = validated_input(s.PreferencesSerializer, request)
        return Response(_preferences(preferences_update(user=request.user, **changes)))


class WatchApi(GenericAPIView):
    serializer_class = s.WatchSerializer
    pagination_class = None

    def get_object(self):
        """The item named in the URL, if the user may see it (404 otherwise)."""
        return access_item(self.request.user, self.kwargs["ref"])[0]

    def _answer(self, item, user) -> Response:
        watching, watchers = watch_state(item=item, user=user)
        return Response({"watching": watching, "watchers": watchers})

    @extend_schema(
        summary="Whether you watch the item, and how many do", parameters=[ITEM_REF], responses=s.WatchSerializer
    )
    def get(self, request, ref: str):
        reject_unknown_parameters(request, set())
        return self._answer(self.get_object(), request.user)

    @extend_schema(
        summary="Watch the item: hear of its edits, status changes and comments",
        parameters=[ITEM_REF],
        request=None,
        responses=s.WatchSerializer,
    )
    def put(self, request, ref: str):
        item = self.get_object()
        _no_body(request)
        watch_set(item=item, user=request.user, watching=True)
        return self._answer(item, request.user)

    @extend_schema(
        summary="Stop watching the item", parameters=[ITEM_REF], request=None, responses={200: s.WatchSerializer}
    )
    def delete(self, request, ref: str):
        item = self.get_object()
        _no_body(request)
        watch_set(item=item, user=request.user, watching=False)
        return self._answer(item, request.user)


def _no_body(request) -> None:
    """These take no body: any field given is refused, as everywhere."""
    if isinstance(request.data, dict) and request.data:
        raise ValidationError({name: ["Unknown field."] for name in sorted(request.data)})
