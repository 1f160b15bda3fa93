"""The delivery pages (included under /p/<key>/ by config.urls)."""

from django.urls import path

from delivery import roadmap_views, views

urlpatterns = [
    path("p/<str:key>/sprints/", views.sprints_page, name="sprints"),
    path("p/<str:key>/sprints/<int:number>/", views.sprint_page, name="sprint"),
    path("p/<str:key>/sprints/<int:number>/commit/", views.sprint_commit_view, name="sprint-commit"),
    path("p/<str:key>/sprints/<int:number>/start/", views.sprint_start_view, name="sprint-start"),
    path("p/<str:key>/sprints/<int:number>/close/", views.sprint_close_view, name="sprint-close"),
    path("p/<str:key>/sprints/<int:number>/actions/", views.retro_action_add_view, name="retro-action-add"),
    path(
        "p/<str:key>/sprints/<int:number>/actions/<int:action_id>/debt/",
        views.retro_action_debt_view,
        name="retro-action-debt",
    ),
    path("p/<str:key>/board/", views.board_page, name="board"),
    path("p/<str:key>/delivery/", views.delivery_settings_page, name="delivery-settings"),
    path("p/<str:key>/forecast/", views.forecast_page, name="forecast"),
    path("p/<str:key>/roadmap/", roadmap_views.roadmap_page, name="roadmap"),
    path("p/<str:key>/<int:number>/start/", views.item_start_view, name="item-start"),
    path("p/<str:key>/<int:number>/done/", views.item_done_page, name="item-done"),
    path("p/<str:key>/<int:number>/delivery/", views.item_delivery_fragment, name="item-delivery"),
]
