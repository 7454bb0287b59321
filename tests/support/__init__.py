"""Helpers the tests share: real servers, an in-process HTTP client, threads, a WebSocket client."""
