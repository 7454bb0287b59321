"""
Django admin for boards, lists, tasks and memberships.

Saves go through the models' save()/delete() and the model signals, so an
edit here — a task, a column, a member, a board's name — reaches every
viewer like any other change, with the admin user as the event's `actor`.
"""

from django.contrib import admin

from . import eventlog
from .models import Board, BoardEvent, List, Membership, Task


class ActingAdmin(admin.ModelAdmin):
    """Changes made through these views name the logged-in admin as their actor."""

    def changeform_view(self, request, *args, **kwargs):
        with eventlog.acting_user(request.user):
            return super().changeform_view(request, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        with eventlog.acting_user(request.user):
            return super().delete_view(request, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):  # bulk actions, list_editable
        with eventlog.acting_user(request.user):
            return super().changelist_view(request, *args, **kwargs)


class ListInline(admin.TabularInline):
    model = List
    extra = 0
    fields = ("id", "name", "position")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Board)
class BoardAdmin(ActingAdmin):
    list_display = ("slug", "name", "visibility", "last_seq", "created")
    list_filter = ("visibility",)
    search_fields = ("slug", "name")
    readonly_fields = ("last_seq", "created")
    inlines = [ListInline, MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        # The slug names the board's room and every client's URL: fixed once made.
        return self.readonly_fields + (("slug",) if obj is not None else ())


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0
    fields = ("title", "position", "assignee", "version")
    readonly_fields = ("version",)
    ordering = ("position",)


@admin.register(List)
class ListAdmin(ActingAdmin):
    list_display = ("id", "name", "board", "position")
    list_filter = ("board",)
    search_fields = ("id", "name", "board__slug")
    inlines = [TaskInline]

    def has_delete_permission(self, request, obj=None):
        # As on the page and the API: a column with tasks is not deleted.
        if obj is not None and obj.tasks.exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Task)
class TaskAdmin(ActingAdmin):
    list_display = ("id", "title", "list", "board_slug", "assignee", "position", "version", "updated")
    autocomplete_fields = ("assignee",)
    list_filter = ("list__board", "list")
    search_fields = ("title", "description")
    list_select_related = ("list__board",)
    readonly_fields = ("version", "created", "updated")

    @admin.display(description="board", ordering="list__board__slug")
    def board_slug(self, task):
        return task.list.board.slug


@admin.register(Membership)
class MembershipAdmin(ActingAdmin):
    list_display = ("user", "board", "role")
    list_filter = ("role", "board")
    search_fields = ("user__username", "board__slug")
    autocomplete_fields = ("user", "board")


@admin.register(BoardEvent)
class BoardEventAdmin(admin.ModelAdmin):
    """Read-only view of the event log, for debugging replays."""

    list_display = ("board", "seq", "type", "created")
    list_filter = ("board", "type")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- SPEC §11: announcements, notifications, ending a user's sessions -----------------

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.admin import UserAdmin  # noqa: E402

from . import accounts  # noqa: E402
from .models import Announcement, Notification  # noqa: E402


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    """Saving a new announcement sends it to every open socket (boards.announcements)."""

    list_display = ("created", "level", "text", "created_by")
    list_filter = ("level",)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created", "user", "kind", "text", "read")
    list_filter = ("kind", "read")
    search_fields = ("user__username", "text")
    raw_id_fields = ("user", "actor")


@admin.action(description="Log out everywhere (end their sessions and sockets)")
def log_out_everywhere(modeladmin, request, queryset):
    for user in queryset:
        accounts.log_out_everywhere(user)
    modeladmin.message_user(request, f"Logged out {queryset.count()} user(s) everywhere.")


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class LiveboardUserAdmin(UserAdmin):
    """Django's user admin, plus "log out everywhere"; deactivating or deleting
    a user here ends their sessions too (boards.accounts)."""

    actions = [log_out_everywhere]
