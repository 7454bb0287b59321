from django.apps import AppConfig


class BoardsConfig(AppConfig):
    name = "boards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signals  # noqa: F401  (connects the broadcast signals)
        from . import accounts, announcements, notifications  # noqa: F401  (SPEC §11 receivers)
        from . import tuning
        from .tuning import checks  # noqa: F401  (registers the liveboard system checks)

        tuning.apply_all()  # the measured patches of boards/tuning (its docstring has the table)
