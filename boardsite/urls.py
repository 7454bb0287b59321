from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from boards import views
from boards.ops import health

urlpatterns = [
    path("", views.board_list, name="board-list"),
    path("boards/<str:slug>/", views.board_detail, name="board-detail"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/", include("boards.api.urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
