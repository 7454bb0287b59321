from django.urls import path

from . import views

urlpatterns = [
    path("auth/token/", views.ObtainToken.as_view(), name="api-token"),
    path("ws-ticket/", views.ws_ticket, name="api-ws-ticket"),
    path("boards/", views.board_list, name="api-board-list"),
    path("boards/<str:slug>/", views.board_detail, name="api-board-detail"),
    path("boards/<str:slug>/events", views.board_events, name="api-board-events"),
    path("tasks/", views.task_create, name="api-task-create"),
    path("tasks/<int:task_id>/", views.task_detail, name="api-task-detail"),
]
