from django.urls import path

from . import boards, personal, views

urlpatterns = [
    path("auth/token/", views.ObtainToken.as_view(), name="api-token"),
    path("ws-ticket/", views.ws_ticket, name="api-ws-ticket"),
    path("boards/", boards.board_list, name="api-board-list"),
    path("boards/<str:slug>/", boards.board_detail, name="api-board-detail"),
    path("boards/<str:slug>/events", boards.board_events, name="api-board-events"),
    path("boards/<str:slug>/activity", boards.board_activity, name="api-board-activity"),
    path("boards/<str:slug>/activity/", boards.board_activity),
    path("boards/<str:slug>/members/", boards.member_list, name="api-board-members"),
    path("boards/<str:slug>/members/<str:username>/", boards.member_detail, name="api-board-member"),
    path("tasks/", views.task_create, name="api-task-create"),
    path("tasks/<int:task_id>/", views.task_detail, name="api-task-detail"),
    path("lists/", views.list_create, name="api-list-create"),
    path("lists/<str:list_id>/", views.list_detail, name="api-list-detail"),
    path("announcements/", personal.announcement_list, name="api-announcements"),
    path("notifications/", personal.notification_list, name="api-notifications"),
    path("notifications/read/", personal.notifications_read, name="api-notifications-read"),
    path("messages/", personal.message_create, name="api-messages"),
]
