"""boards.tuning.checks: `manage.py check` says when a tuning patch cannot apply."""

import io

from django.core.management import call_command

from boards import tuning
from boards.tuning import checks


def test_the_pinned_libraries_give_no_warning():
    assert checks.tuning_patches_apply() == []


def test_a_missing_upstream_attribute_is_a_warning(monkeypatch):
    from daphne.access import AccessLogGenerator

    monkeypatch.delattr(AccessLogGenerator, "write_entry")  # as if a future daphne renamed it
    ids = [(w.id, w.msg) for w in checks.tuning_patches_apply()]
    assert ("liveboard.W001", "daphne.access.AccessLogGenerator.write_entry, which boards.tuning patches "
            "or relies on, does not exist in the installed version") in ids


def test_a_patch_that_failed_to_apply_is_a_warning_in_manage_py_check(monkeypatch):
    monkeypatch.setitem(tuning.FAILED, "daphne_speed", AttributeError("no _tempDataBuffer"))
    err = io.StringIO()
    call_command("check", stderr=err, stdout=io.StringIO())
    assert "liveboard.W001" in err.getvalue() and "boards.tuning.daphne_speed could not be applied" in err.getvalue()


def test_another_installed_version_than_the_pinned_one_is_a_warning(monkeypatch):
    monkeypatch.setitem(checks.PINNED, "daphne", "0.0.1")
    [warning] = checks.tuning_patches_apply()
    assert warning.id == "liveboard.W002" and "daphne 4.2.3 is installed" in warning.msg


def test_a_patch_that_raises_is_skipped_and_recorded(monkeypatch):
    from boards.tuning import gctune

    def broken():
        raise RuntimeError("upstream changed")

    monkeypatch.setattr(gctune, "apply", broken)
    monkeypatch.setattr(tuning, "FAILED", {})
    tuning.apply_all()
    assert repr(tuning.FAILED["gctune"]) == "RuntimeError('upstream changed')"
