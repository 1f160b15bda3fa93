from django.urls import path

from webhooks import views
from webhooks.api import views as api

pages = [
    path("p/<str:key>/webhooks/", views.webhooks_page, name="webhooks"),
    path("p/<str:key>/webhooks/<int:endpoint_id>/", views.webhook_page, name="webhook-detail"),
    path("p/<str:key>/webhooks/<int:endpoint_id>/<str:action>/", views.webhook_action, name="webhook-action"),
    path(
        "p/<str:key>/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver/",
        views.redeliver,
        name="webhook-redeliver",
    ),
]

api_v1 = [
    path("products/<str:key>/webhooks/", api.EndpointListApi.as_view(), name="webhook-list"),
    path("products/<str:key>/webhooks/<int:endpoint_id>/", api.EndpointDetailApi.as_view(), name="webhook-detail"),
    path(
        "products/<str:key>/webhooks/<int:endpoint_id>/secret/", api.EndpointSecretApi.as_view(), name="webhook-secret"
    ),
    path("products/<str:key>/webhooks/<int:endpoint_id>/test/", api.EndpointTestApi.as_view(), name="webhook-test"),
    path(
        "products/<str:key>/webhooks/<int:endpoint_id>/deliveries/",
        api.DeliveryListApi.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "products/<str:key>/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver/",
        api.RedeliverApi.as_view(),
        name="webhook-redeliver",
    ),
]
