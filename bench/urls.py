"""The app's URLs plus a bare DRF ListAPIView over the same table: the benchmark's baseline."""

from django.urls import path
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny

from accounts.models import Product
from backlog.api.serializers import ItemSerializer
from backlog.models import Item
from config.urls import urlpatterns as app_urlpatterns


class BarePagination(CursorPagination):
    ordering = "rank"
    page_size = 50


class BareItemList(ListAPIView):
    """No authentication, permissions, throttling or filters: the same rows, serializer and pagination."""

    serializer_class = ItemSerializer
    pagination_class = BarePagination
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    def get_queryset(self):
        product = Product.objects.only("id").get(key=self.kwargs["key"])
        return (
            Item.objects.filter(product_id=product.pk, rank__isnull=False)
            .select_related("product", "created_by")
            .prefetch_related("labels")
        )


urlpatterns = [
    path("bare/<str:key>/items/", BareItemList.as_view()),
    *app_urlpatterns,
]
