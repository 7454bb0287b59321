"""What every REST view shares: request bodies validated by boards.validation,
domain errors (boards.errors) turned into responses — one way for all views."""

import functools

from rest_framework import status
from rest_framework.response import Response

from boards import wire
from boards.errors import LiveboardError


class Invalid(Exception):
    """A request body that failed its serializer: 400 with the field errors."""

    def __init__(self, errors):
        super().__init__("invalid request")
        self.errors = errors


def validated(serializer_class, data):
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise Invalid(serializer.errors)
    return serializer.validated_data


def error_response(exc):
    status_code, body = wire.rest_error(exc)
    return Response(body, status=status_code)


def domain_errors(view):
    """Answer a view's Invalid / LiveboardError as a 400 / its status, never a 500."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Invalid as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        except LiveboardError as exc:
            return error_response(exc)

    return wrapper
