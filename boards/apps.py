from django.apps import AppConfig


class BoardsConfig(AppConfig):
    name = "boards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signals  # noqa: F401  (connects the broadcast signals)
        from .tuning import daphne_compat

        daphne_compat.apply()  # close codes 1008/1009 under daphne; no secrets in its access log
        from .tuning import daphne_speed

        daphne_speed.apply()  # Twisted TCP writes go out at once when nothing is queued
        from .tuning import gctune

        gctune.apply()  # fewer full collections under fan-out (see the module)
        from .tuning import switchinterval

        switchinterval.apply()  # the sync thread gets the GIL back sooner from the fan-out loop
