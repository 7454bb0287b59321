"""
Django admin for boards, lists, tasks and memberships.

Saves go through Task.save()/delete() and the model signals, so an edit
here reaches every viewer like any other change.
"""

from django.contrib import admin

from .models import Board, BoardEvent, List, Membership, Task


class ListInline(admin.TabularInline):
    model = List
    extra = 0
    fields = ("id", "name", "position")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Board)
class BoardAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "visibility", "last_seq", "created")
    list_filter = ("visibility",)
    search_fields = ("slug", "name")
    readonly_fields = ("last_seq", "created")
    inlines = [ListInline, MembershipInline]


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0
    fields = ("title", "position", "version")
    readonly_fields = ("version",)
    ordering = ("position",)


@admin.register(List)
class ListAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "board", "position")
    list_filter = ("board",)
    search_fields = ("id", "name", "board__slug")
    inlines = [TaskInline]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "list", "board_slug", "position", "version", "updated")
    list_filter = ("list__board", "list")
    search_fields = ("title", "description")
    list_select_related = ("list__board",)
    readonly_fields = ("version", "created", "updated")

    @admin.display(description="board", ordering="list__board__slug")
    def board_slug(self, task):
        return task.list.board.slug


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
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
