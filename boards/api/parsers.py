"""
The REST API's JSON parser: DRF's, except that absurdly deep nesting
(`[[[[…]]]]`, which blows Python's recursion limit inside `json.loads`) is a
400 parse error like any other malformed body, not a 500.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply")
